// One pool under 64 concurrent requests mixing reward credits, stakes, unstakes, claims, payouts and
// commission distributions (docs/ledger.md, hot accounts): nothing serialises on a pool row any
// more, so this checks that what each request answered is exactly what the ledger holds afterwards.
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import request from "supertest";
import { twist } from "@twist/shared/amount";
import { account } from "../src/ledger";
import {
  BROWSER,
  click,
  merchantPost,
  newInfluencer,
  newLink,
  newUser,
  startHarness,
  type Harness,
  type User,
  balanceOf,
  deliverRewards,
  expectLedgerConsistent,
  moneyPost,
  rewardMessage,
} from "./harness";

describe("one hot pool: 64 concurrent mixed money requests", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness("hot-pool");
  });
  after(async () => h.close());
  afterEach(async () => expectLedgerConsistent(h));

  it("every answer matches the ledger afterwards; pool totals equal the stakes; invariants hold", async () => {
    const owner = await newInfluencer(h);
    const created = await request(h.app).post("/api/v1/pools").set(owner.auth).send({ name: "Hot pool", revenueShareBps: 5000, minStake: "1" });
    expect(created.status).to.equal(201);
    const poolId = created.body.pool.id as string;
    const link = await newLink(h, owner);

    // 16 stakers, funded through reward credits, each with a first position and some claimable rewards.
    const users: User[] = await Promise.all(Array.from({ length: 16 }, () => newUser()));
    const funded = twist(100);
    const initial = await deliverRewards(h, { messages: users.map((u) => rewardMessage(u.wallet, { earned: funded.toString() })) });
    expect(initial.body.results.every((r: { status: string }) => r.status === "credited")).to.equal(true);
    const firstStake = twist(10);
    for (const u of users) expect((await moneyPost(h, u, `/api/v1/pools/${poolId}/stake`, { amount: firstStake.toString() })).status).to.equal(200);
    const conversion = async () => {
      const clickId = await click(h, link.code, { ip: `198.51.100.${1 + Math.floor(Math.random() * 200)}`, ua: `${BROWSER} hot-${randomUUID()}` });
      return merchantPost(h, "/api/v1/conversions", { orderId: `order-${randomUUID()}`, clickId, amount: "100000000000", currency: "TWIST" });
    };
    expect((await conversion()).status).to.equal(201);

    const expected = new Map(users.map((u) => [u.wallet, { available: funded - firstStake, stake: firstStake }]));
    const ops = Array.from({ length: 64 }, (_, i) => {
      const u = users[i % users.length]!;
      const e = expected.get(u.wallet)!;
      switch (i % 6) {
        case 0:
          return async () => {
            const amount = 1_000n + BigInt(i);
            const res = await deliverRewards(h, { messages: [rewardMessage(u.wallet, { earned: amount.toString() })] });
            expect(res.body.results[0].status).to.equal("credited");
            e.available += amount;
          };
        case 1:
          return async () => {
            const res = await moneyPost(h, u, `/api/v1/pools/${poolId}/stake`, { amount: "3000" });
            expect(res.status, JSON.stringify(res.body)).to.equal(200);
            e.available -= 3000n;
            e.stake += 3000n;
          };
        case 2:
          return async () => {
            const res = await moneyPost(h, u, `/api/v1/pools/${poolId}/unstake`, { amount: "2000" });
            expect(res.status, JSON.stringify(res.body)).to.equal(200);
            e.available += 2000n;
            e.stake -= 2000n;
          };
        case 3:
          return async () => {
            const res = await moneyPost(h, u, `/api/v1/pools/${poolId}/claim`, {});
            // Claimable is > 0 after the first conversion; a concurrent claim of the same wallet may have taken it all.
            expect([200, 409], JSON.stringify(res.body)).to.include(res.status);
            if (res.status === 200) e.available += BigInt(res.body.claimed);
            else expect(res.body.error.code).to.equal("NOTHING_TO_CLAIM");
          };
        case 4:
          return async () => {
            const res = await moneyPost(h, u, "/api/v1/payouts", { amount: twist(11).toString() });
            expect(res.status, JSON.stringify(res.body)).to.equal(202);
            e.available -= twist(11);
          };
        default:
          return async () => {
            const res = await conversion();
            expect(res.status, JSON.stringify(res.body)).to.equal(201);
          };
      }
    });
    await Promise.all(ops.map((op) => op()));

    let totalStaked = 0n;
    for (const u of users) {
      const e = expected.get(u.wallet)!;
      expect(await balanceOf(h, account.stake(u.wallet, poolId).key), "stake").to.equal(e.stake);
      expect(await balanceOf(h, account.available(u.wallet).key), "available").to.equal(e.available);
      totalStaked += e.stake;
    }
    const pool = await request(h.app).get(`/api/v1/pools/${poolId}`);
    expect(pool.body.pool.totalStaked).to.equal(totalStaked.toString());
    expect(pool.body.pool.stakerCount).to.equal(users.length);
  });
});
