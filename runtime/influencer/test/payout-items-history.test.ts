// Payout line items (what a payout pays out, summing exactly to its amount) and the staking history
// (the caller's own ledger movements, filtered and paged), over the real app and ledger. Commission
// credits are posted through the real ledger with the kinds the conversion hook uses.
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import request from "supertest";
import { account, Ledger } from "../src/ledger";
import { createPayoutService } from "../src/ledger/wiring";
import {
  expectEnvelope,
  newInfluencer,
  newUser,
  startHarness,
  type Harness,
  type User,
  deliverRewards,
  expectLedgerConsistent,
  fund,
  ledgerOf,
  moneyPost,
  rewardMessage,
} from "./harness";

async function commission(h: Harness, to: ReturnType<typeof account.available>, amount: bigint, kind: string, conversionId: string): Promise<void> {
  const ledger = ledgerOf(h);
  await ledger.transaction((t) => ledger.transfer(t, { id: `commission:${conversionId}:${to.key}`, from: account.system("commissions"), to, amount, kind, reference: conversionId }));
}

const sum = (items: { amount: string }[]) => items.reduce((s, i) => s + BigInt(i.amount), 0n);

describe("payout items and staking history", () => {
  let h: Harness;
  let u: User;
  let poolId: string;
  const vau = rewardMessage("placeholder");
  const conversionA = randomUUID();
  const conversionB = randomUUID();
  const payoutIds: string[] = [];

  before(async () => {
    h = await startHarness("itemshist", { PAYOUT_MIN_AMOUNT: "100", PAYOUT_FEE_FLAT: "0", PAYOUT_FEE_BPS: "0" });
    const owner = await newInfluencer(h);
    poolId = (await request(h.app).post("/api/v1/pools").set(owner.auth).send({ name: "History pool", revenueShareBps: 1000, minStake: "1" })).body.pool.id;
    u = await newUser();
    // Credits to available, in order: reward 1000, commission 300, (stake 200 out), claim 50, unstake 100.
    const delivered = await deliverRewards(h, { messages: [{ ...vau, walletAddress: u.wallet, earned: "1000" }] });
    expect(delivered.status).to.equal(200);
    await commission(h, account.available(u.wallet), 300n, "commission_influencer_share", conversionA);
    expect((await moneyPost(h, u, `/api/v1/pools/${poolId}/stake`, { amount: "200" })).status).to.equal(200);
    await commission(h, account.poolRewards(u.wallet, poolId), 50n, "commission_staker_share", conversionB);
    expect((await moneyPost(h, u, `/api/v1/pools/${poolId}/claim`, {})).status).to.equal(200);
    expect((await moneyPost(h, u, `/api/v1/pools/${poolId}/unstake`, { amount: "100" })).status).to.equal(200);
  });
  after(async () => {
    await h.close();
  });
  afterEach(async () => expectLedgerConsistent(h));

  it("a payout lists the credits it pays out, first in first out, summing exactly to its amount", async () => {
    const res = await moneyPost(h, u, "/api/v1/payouts", { amount: "1200" });
    expect(res.status).to.equal(202);
    payoutIds.push(res.body.payout.id);
    const got = await request(h.app).get(`/api/v1/payouts/${res.body.payout.id}`).set(u.auth);
    expect(got.status).to.equal(200);
    const items = got.body.payout.items as { kind: string; amount: string; reference: string | null; occurredAt: string }[];
    // The stake consumed the first 200 of the reward; the payout takes the next 1200.
    expect(items.map(({ kind, amount, reference }) => ({ kind, amount, reference }))).to.deep.equal([
      { kind: "reward", amount: "800", reference: vau.id },
      { kind: "commission", amount: "300", reference: conversionA },
      { kind: "claim", amount: "50", reference: poolId },
      { kind: "unstake", amount: "50", reference: poolId },
    ]);
    expect(sum(items)).to.equal(BigInt(got.body.payout.amount));
    for (const i of items) expect(Date.parse(i.occurredAt)).to.be.a("number").and.not.NaN;
  });

  it("after a void, the next payout pays what was left and the returned funds (payout_return)", async () => {
    const seq = h.service.context.sequelize;
    expect(await createPayoutService(h.config, seq, new Ledger(seq)).void(payoutIds[0]!, "test: settlement failed")).to.equal(true);
    const res = await moneyPost(h, u, "/api/v1/payouts", { amount: "1000" });
    expect(res.status).to.equal(202);
    payoutIds.push(res.body.payout.id);
    const got = await request(h.app).get(`/api/v1/payouts/${res.body.payout.id}`).set(u.auth);
    expect(got.body.payout.items.map(({ kind, amount, reference }: { kind: string; amount: string; reference: string }) => ({ kind, amount, reference }))).to.deep.equal([
      { kind: "unstake", amount: "50", reference: poolId },
      { kind: "payout_return", amount: "950", reference: payoutIds[0] },
    ]);
    expect(sum(got.body.payout.items)).to.equal(1000n);
  });

  it("another wallet cannot read the payout or its items (404)", async () => {
    const other = await newUser();
    const res = await request(h.app).get(`/api/v1/payouts/${payoutIds[0]}`).set(other.auth);
    expect(res.status).to.equal(404);
    expectEnvelope(res.body, "NOT_FOUND");
  });

  it("history lists every own movement newest first, with kinds, types and both sides", async () => {
    const res = await request(h.app).get("/api/v1/me/history?limit=100").set(u.auth);
    expect(res.status).to.equal(200);
    expect(res.headers["cache-control"]).to.equal("no-store");
    const entries = res.body.entries as { kind: string; type: string; amount: string; from: object; to: object; reference: string | null }[];
    expect(entries.map((e) => `${e.type}:${e.amount}`)).to.deep.equal([
      "payout_reserve:1000",
      "payout_void:1200",
      "payout_reserve:1200",
      "unstake:100",
      "claim:50",
      "commission_staker_share:50",
      "stake:200",
      "commission_influencer_share:300",
      "reward:1000",
    ]);
    expect(entries.map((e) => e.kind)).to.deep.equal(["payout", "payout", "payout", "unstake", "claim", "commission", "stake", "commission", "reward"]);
    expect(entries[6]).to.deep.include({ from: { account: "available" }, to: { account: "stake", poolId }, reference: poolId });
    expect(entries[8]).to.deep.include({ from: { account: "platform" }, to: { account: "available" }, reference: vau.id });
    expect(res.body.nextCursor).to.equal(null);
  });

  it("pages with nextCursor: every entry once, in order", async () => {
    const all = (await request(h.app).get("/api/v1/me/history?limit=100").set(u.auth)).body.entries.map((e: { id: string }) => e.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res: request.Response = await request(h.app)
        .get("/api/v1/me/history")
        .query({ limit: 4, ...(cursor ? { cursor } : {}) })
        .set(u.auth);
      expect(res.status).to.equal(200);
      seen.push(...res.body.entries.map((e: { id: string }) => e.id));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).to.deep.equal(all);
  });

  it("filters by kind (one or several)", async () => {
    const payouts = await request(h.app).get("/api/v1/me/history?kind=payout").set(u.auth);
    expect(payouts.body.entries.map((e: { type: string }) => e.type)).to.deep.equal(["payout_reserve", "payout_void", "payout_reserve"]);
    const staking = await request(h.app).get("/api/v1/me/history?kind=stake,unstake").set(u.auth);
    expect(staking.body.entries.map((e: { kind: string }) => e.kind)).to.deep.equal(["unstake", "stake"]);
  });

  it("only the caller's own movements", async () => {
    const other = await newUser();
    expect((await request(h.app).get("/api/v1/me/history").set(other.auth)).body).to.deep.equal({ entries: [], nextCursor: null });
    await fund(h, other.wallet, 77n);
    const res = await request(h.app).get("/api/v1/me/history").set(other.auth);
    expect(res.body.entries.map((e: { amount: string }) => e.amount)).to.deep.equal(["77"]);
  });

  describe("bad input: 400 envelope", () => {
    for (const [name, query] of [
      ["unknown kind", "kind=bonus"],
      ["one bad kind in a list", "kind=stake,bonus"],
      ["empty kind", "kind="],
      ["cursor not a number", "cursor=abc"],
      ["cursor zero", "cursor=0"],
      ["limit zero", "limit=0"],
      ["limit too large", "limit=101"],
      ["unknown parameter", "wallet=someone"],
    ] as const) {
      it(name, async () => {
        const res = await request(h.app).get(`/api/v1/me/history?${query}`).set(u.auth);
        expect(res.status).to.equal(400);
        expectEnvelope(res.body, "VALIDATION_ERROR");
      });
    }
    it("no token: 401", async () => {
      const res = await request(h.app).get("/api/v1/me/history");
      expect(res.status).to.equal(401);
      expectEnvelope(res.body, "UNAUTHORIZED");
    });
  });
});
