// Seeds a database through the influencer API's real flows, for the restore drill and bench/backup:
// influencers with pools, users earning rewards (signed reward deliveries), stakes, referral links
// and clicks, signed merchant conversions (commissions split to stakers), claims, and payouts
// settled by the real settlement worker.
import { randomUUID } from "node:crypto";
import request from "supertest";
import { createLogger } from "@twist/shared/logger";
import { Ledger } from "../src/ledger";
import { createPayoutService } from "../src/ledger/wiring";
import { createSettlementAdapter, settlementQueueOptions, startSettlementWorker } from "../src/settlement";
import { click, merchantPost, newInfluencer, newLink, newUser, type Harness, type User, deliverRewards, moneyPost, rewardMessage } from "./harness";

/** Payout rules small enough for seeded balances. */
export const SEED_ENV = { PAYOUT_MIN_AMOUNT: "1000", PAYOUT_FEE_FLAT: "10", PAYOUT_FEE_BPS: "100" };

export interface SeedSummary {
  influencers: number;
  users: number;
  /** Ids of the payouts, all settled by the worker. */
  payouts: string[];
}

/** Reads the payout until the worker has finished with it (bounded number of reads). */
async function settled(h: Harness, user: User, id: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const res = await request(h.app).get(`/api/v1/payouts/${id}`).set(user.auth);
    if (res.body.payout?.status && res.body.payout.status !== "pending") return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`seed: payout ${id} still pending`);
}

function ok(res: request.Response, what: string, status = [200, 201, 202]): request.Response {
  if (!status.includes(res.status)) throw new Error(`seed: ${what} answered ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

export async function seedThroughApi(h: Harness, size: { influencers: number; usersPerPool: number } = { influencers: 2, usersPerPool: 3 }): Promise<SeedSummary> {
  const logger = createLogger("backup-seed", { level: "silent" });
  const seq = h.service.context.sequelize;
  const worker = startSettlementWorker(settlementQueueOptions(h.config), createPayoutService(h.config, seq, new Ledger(seq)), createSettlementAdapter(h.config), logger);
  const members: { user: User; poolId: string }[] = [];
  const owners: User[] = [];
  try {
    for (let i = 0; i < size.influencers; i++) {
      const owner = await newInfluencer(h);
      owners.push(owner);
      const pool = ok(
        await request(h.app)
          .post("/api/v1/pools")
          .set(owner.auth)
          .send({ name: `Drill pool ${owner.username}`, revenueShareBps: 5000, minStake: "1" }),
        "create pool",
      ).body.pool;
      const link = await newLink(h, owner);
      for (let j = 0; j < size.usersPerPool; j++) {
        const user = await newUser();
        members.push({ user, poolId: pool.id });
        ok(await deliverRewards(h, { messages: [rewardMessage(user.wallet, { earned: "50000" }), rewardMessage(user.wallet, { earned: "7000" })] }), "deliver rewards");
        ok(await moneyPost(h, user, `/api/v1/pools/${pool.id}/stake`, { amount: String(10_000 + 1000 * j) }), "stake");
        const clickId = await click(h, link.code, { ip: `198.51.100.${(i * 50 + j) % 250}` });
        ok(await merchantPost(h, "/api/v1/conversions", { orderId: `drill-${randomUUID()}`, clickId, amount: String(1_000_001 + j), currency: "TWIST" }), "conversion");
      }
      // A counted click that never converts.
      await click(h, link.code, { ip: `203.0.113.${i % 250}` });
    }
    const payouts: { user: User; id: string }[] = [];
    for (const { user, poolId } of members) {
      ok(await moneyPost(h, user, `/api/v1/pools/${poolId}/claim`, {}), "claim");
      payouts.push({ user, id: ok(await moneyPost(h, user, "/api/v1/payouts", { amount: "2000" }), "payout").body.payout.id });
    }
    for (const owner of owners) payouts.push({ user: owner, id: ok(await moneyPost(h, owner, "/api/v1/payouts", { amount: "1000" }), "influencer payout").body.payout.id });
    for (const p of payouts) await settled(h, p.user, p.id);
    return { influencers: owners.length, users: members.length, payouts: payouts.map((p) => p.id) };
  } finally {
    await worker.close();
  }
}
