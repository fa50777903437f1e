// Staking pools over the real app: creation and admin rights, public search with cache
// invalidation, stake/unstake/claim with Idempotency-Key, concurrency, and commission distribution.
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import request from "supertest";
import { twist } from "@twist/shared/amount";
import { QueryTypes } from "sequelize";
import { account, systemShardOf } from "../src/ledger";
import { splitCommission, tierFor, effectiveShareBps } from "../src/pools/tiers";
import {
  click,
  expectEnvelope,
  merchantPost,
  newInfluencer,
  newLink,
  newUser,
  startHarness,
  type Harness,
  type User,
  balanceOf,
  expectLedgerConsistent,
  fund,
  moneyPost,
} from "./harness";

describe("commission split rule (pure)", () => {
  it("pays stakers pro rata with largest remainders and never creates or loses a unit", () => {
    const positions = [
      { wallet: "A", amount: 1n },
      { wallet: "B", amount: 2n },
      { wallet: "C", amount: 4n },
    ];
    for (const commission of [1n, 2n, 7n, 10n, 99n, 1001n, 12_345_678_901n]) {
      const split = splitCommission(commission, 5000, positions);
      const paid = split.shares.reduce((s, p) => s + p.amount, 0n);
      expect(paid).to.equal(split.stakersAmount);
      expect(split.stakersAmount + split.influencerAmount).to.equal(commission);
      expect(split.stakersAmount).to.equal((commission * 5000n) / 10_000n);
    }
    // 10 * 50% = 5 to stakers of 1:2:4 -> exact 0.714, 1.428, 2.857 -> floors 0,1,2 (3), remainders
    // go to C (.857) then A (.714): A 1, B 1, C 3.
    const s = splitCommission(10n, 5000, positions);
    expect(Object.fromEntries(s.shares.map((p) => [p.wallet, p.amount]))).to.deep.equal({ A: 1n, B: 1n, C: 3n });
    expect(s.influencerAmount).to.equal(5n);
  });

  it("gives everything to the influencer when nobody stakes or the share is 0", () => {
    expect(splitCommission(100n, 5000, [])).to.deep.equal({ stakersAmount: 0n, influencerAmount: 100n, shares: [] });
    expect(splitCommission(100n, 0, [{ wallet: "A", amount: 5n }]).influencerAmount).to.equal(100n);
  });

  it("caps the revenue share by tier of total staked (1k / 10k / 50k TWIST)", () => {
    expect(tierFor(twist(999)).name).to.equal("starter");
    expect(tierFor(twist(1_000)).name).to.equal("bronze");
    expect(tierFor(twist(10_000)).name).to.equal("silver");
    expect(tierFor(twist(50_000)).name).to.equal("gold");
    expect(effectiveShareBps(5000, twist(10))).to.equal(1000);
    expect(effectiveShareBps(5000, twist(20_000))).to.equal(3500);
    expect(effectiveShareBps(1500, twist(60_000))).to.equal(1500);
  });
});

describe("pools API", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness("pools");
  });
  after(async () => h.close());
  afterEach(async () => expectLedgerConsistent(h));

  async function newPool(minStake = "100", revenueShareBps = 5000, name?: string) {
    const owner = await newInfluencer(h);
    const res = await request(h.app)
      .post("/api/v1/pools")
      .set(owner.auth)
      .send({ name: name ?? `Pool of ${owner.username}`, description: "stake with me", revenueShareBps, minStake });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return { owner, pool: res.body.pool as { id: string; minStake: string } };
  }

  const stake = (u: User, poolId: string, amount: string, key?: string) => moneyPost(h, u, `/api/v1/pools/${poolId}/stake`, { amount }, key);
  const unstake = (u: User, poolId: string, amount: string, key?: string) => moneyPost(h, u, `/api/v1/pools/${poolId}/unstake`, { amount }, key);

  describe("creation and admin", () => {
    it("a registered influencer creates one pool; a second is 409", async () => {
      const { owner, pool } = await newPool();
      expect(pool).to.include({ minStake: "100", totalStaked: "0", stakerCount: 0, revenueShareBps: 5000, effectiveRevenueShareBps: 1000, tier: "starter" });
      const again = await request(h.app).post("/api/v1/pools").set(owner.auth).send({ name: "Second", revenueShareBps: 10, minStake: "1" });
      expect(again.status).to.equal(409);
      expectEnvelope(again.body, "CONFLICT");
    });

    it("a user who is not an influencer gets 403; no token gets 401", async () => {
      const user = await newUser();
      const res = await request(h.app).post("/api/v1/pools").set(user.auth).send({ name: "Mine", revenueShareBps: 10, minStake: "1" });
      expect(res.status).to.equal(403);
      const anon = await request(h.app).post("/api/v1/pools").send({ name: "Mine", revenueShareBps: 10, minStake: "1" });
      expect(anon.status).to.equal(401);
    });

    it("rejects bad input with 400 and writes nothing", async () => {
      const owner = await newInfluencer(h);
      const bad = [
        { name: "Pool", revenueShareBps: 5001, minStake: "1" },
        { name: "Pool", revenueShareBps: -1, minStake: "1" },
        { name: "Pool", revenueShareBps: "100", minStake: "1" },
        { name: "Pool", revenueShareBps: 10.5, minStake: "1" },
        { name: "Pool", revenueShareBps: 10, minStake: "0" },
        { name: "Pool", revenueShareBps: 10, minStake: "-5" },
        { name: "Pool", revenueShareBps: 10, minStake: "1.5" },
        { name: "Pool", revenueShareBps: 10, minStake: 100 },
        { name: "Pool", revenueShareBps: 10, minStake: "1", influencerId: randomUUID() },
        { name: "x".repeat(81), revenueShareBps: 10, minStake: "1" },
        { revenueShareBps: 10, minStake: "1" },
      ];
      for (const body of bad) {
        const res = await request(h.app).post("/api/v1/pools").set(owner.auth).send(body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expectEnvelope(res.body, "VALIDATION_ERROR");
      }
      const [rows] = await h.service.context.sequelize.query(
        `SELECT count(*)::int AS n FROM pools p JOIN influencers i ON i.id = p.influencer_id WHERE i.username = '${owner.username}'`,
      );
      expect((rows as { n: number }[])[0]!.n).to.equal(0);
    });

    it("only the pool's influencer may change it: another influencer 403, unknown pool 404", async () => {
      const { owner, pool } = await newPool();
      const other = await newInfluencer(h);
      const denied = await request(h.app).patch(`/api/v1/pools/${pool.id}`).set(other.auth).send({ revenueShareBps: 0 });
      expect(denied.status).to.equal(403);
      expectEnvelope(denied.body, "FORBIDDEN");
      const missing = await request(h.app).patch(`/api/v1/pools/${randomUUID()}`).set(owner.auth).send({ revenueShareBps: 0 });
      expect(missing.status).to.equal(404);
      const ok = await request(h.app).patch(`/api/v1/pools/${pool.id}`).set(owner.auth).send({ revenueShareBps: 250, description: "new" });
      expect(ok.status).to.equal(200);
      expect(ok.body.pool).to.include({ revenueShareBps: 250, description: "new" });
      const read = await request(h.app).get(`/api/v1/pools/${pool.id}`);
      expect(read.body.pool.revenueShareBps).to.equal(250);
    });
  });

  describe("search and read", () => {
    it("searches by text, sorts by total staked / stakers, pages with a cursor, and reflects stakes at once", async () => {
      const tag = `zeta${Date.now()}`;
      const pools = [];
      for (let i = 0; i < 3; i++) pools.push((await newPool("10", 5000, `${tag} pool ${i}`)).pool);
      const other = await newPool("10", 5000, "unrelated");
      const list0 = await request(h.app).get("/api/v1/pools").query({ q: tag });
      expect(list0.status).to.equal(200);
      expect(list0.body.pools.map((p: { id: string }) => p.id).sort()).to.deep.equal(pools.map((p) => p.id).sort());

      const staker1 = await newUser();
      const staker2 = await newUser();
      await fund(h, staker1.wallet, 1000n);
      await fund(h, staker2.wallet, 1000n);
      expect((await stake(staker1, pools[1]!.id, "300")).status).to.equal(200);
      expect((await stake(staker2, pools[2]!.id, "200")).status).to.equal(200);
      expect((await stake(staker1, pools[2]!.id, "50")).status).to.equal(200);

      // The cached list was invalidated by the stakes.
      const byTotal = await request(h.app).get("/api/v1/pools").query({ q: tag, sort: "total_staked" });
      expect(byTotal.body.pools.map((p: { id: string; totalStaked: string }) => [p.id, p.totalStaked])).to.deep.equal([
        [pools[1]!.id, "300"],
        [pools[2]!.id, "250"],
        [pools[0]!.id, "0"],
      ]);
      const byStakers = await request(h.app).get("/api/v1/pools").query({ q: tag, sort: "stakers" });
      expect(byStakers.body.pools[0].id).to.equal(pools[2]!.id);
      expect(byStakers.body.pools[0].stakerCount).to.equal(2);

      const page1 = await request(h.app).get("/api/v1/pools").query({ q: tag, limit: 2 });
      expect(page1.body.pools).to.have.length(2);
      expect(page1.body.nextCursor).to.be.a("string");
      const page2 = await request(h.app).get("/api/v1/pools").query({ q: tag, limit: 2, cursor: page1.body.nextCursor });
      expect(page2.body.pools.map((p: { id: string }) => p.id)).to.deep.equal([pools[0]!.id]);
      expect(page2.body.nextCursor).to.equal(null);

      const byApy = await request(h.app).get("/api/v1/pools").query({ q: tag, sort: "apy" });
      expect(byApy.status).to.equal(200);
      expect(byApy.body.pools.every((p: { apyBps: string }) => p.apyBps === "0")).to.equal(true);
      void other;
    });

    it("treats search text literally and rejects bad query parameters", async () => {
      const res = await request(h.app).get("/api/v1/pools").query({ q: "%' OR 1=1 --" });
      expect(res.status).to.equal(200);
      expect(res.body.pools).to.deep.equal([]);
      for (const query of [{ sort: "name" }, { limit: 0 }, { limit: 101 }, { cursor: "not-a-cursor" }]) {
        const bad = await request(h.app).get("/api/v1/pools").query(query);
        expect(bad.status, JSON.stringify(query)).to.equal(400);
      }
      expect((await request(h.app).get("/api/v1/pools/not-a-uuid")).status).to.equal(404);
      expect((await request(h.app).get(`/api/v1/pools/${randomUUID()}`)).status).to.equal(404);
    });
  });

  describe("stake, unstake, claim", () => {
    it("requires a valid Idempotency-Key and a positive integer amount string", async () => {
      const { pool } = await newPool("1");
      const u = await newUser();
      await fund(h, u.wallet, 100n);
      const noKey = await request(h.app).post(`/api/v1/pools/${pool.id}/stake`).set(u.auth).send({ amount: "10" });
      expect(noKey.status).to.equal(400);
      const shortKey = await request(h.app).post(`/api/v1/pools/${pool.id}/stake`).set(u.auth).set("Idempotency-Key", "x").send({ amount: "10" });
      expect(shortKey.status).to.equal(400);
      for (const amount of ["0", "-1", "1.5", "1e3", 10, "", " 10"]) {
        const res = await stake(u, pool.id, amount as string);
        expect(res.status, String(amount)).to.equal(400);
        expectEnvelope(res.body, "VALIDATION_ERROR");
      }
      expect((await request(h.app).post(`/api/v1/pools/${pool.id}/stake`).set("Idempotency-Key", "key-12345678").send({ amount: "1" })).status).to.equal(401);
      expect(await balanceOf(h, account.available(u.wallet).key)).to.equal(100n);
    });

    it("moves funds available -> staked -> available and enforces the minimum position", async () => {
      const { pool } = await newPool("100");
      const u = await newUser();
      await fund(h, u.wallet, 1000n);
      const below = await stake(u, pool.id, "99");
      expect(below.status).to.equal(400);
      expect(below.body.error.details.reason).to.equal("BELOW_MIN_STAKE");
      const ok = await stake(u, pool.id, "400");
      expect(ok.status).to.equal(200);
      expect(ok.body).to.deep.equal({ poolId: pool.id, staked: "400", available: "600", pool: { totalStaked: "400", stakerCount: 1 } });
      const tooMuch = await stake(u, pool.id, "601");
      expect(tooMuch.status).to.equal(409);
      expectEnvelope(tooMuch.body, "INSUFFICIENT_FUNDS");
      const leavesDust = await unstake(u, pool.id, "350");
      expect(leavesDust.status).to.equal(400);
      const overUnstake = await unstake(u, pool.id, "401");
      expect(overUnstake.status).to.equal(409);
      const all = await unstake(u, pool.id, "400");
      expect(all.status).to.equal(200);
      expect(all.body).to.deep.equal({ poolId: pool.id, staked: "0", available: "1000", pool: { totalStaked: "0", stakerCount: 0 } });
      expect((await stake(u, randomUUID(), "100")).status).to.equal(404);
    });

    it("the same Idempotency-Key replayed has one effect; with a different body it is 409", async () => {
      const { pool } = await newPool("1");
      const u = await newUser();
      await fund(h, u.wallet, 1000n);
      const key = `key-${randomUUID()}`;
      const answers = await Promise.all(Array.from({ length: 10 }, () => stake(u, pool.id, "100", key)));
      expect(answers.map((a) => a.status)).to.deep.equal(Array(10).fill(200));
      for (const a of answers) expect(a.body).to.deep.equal(answers[0]!.body);
      expect(answers.filter((a) => a.headers["idempotent-replayed"] === "true")).to.have.length(9);
      expect(await balanceOf(h, account.stake(u.wallet, pool.id).key)).to.equal(100n);
      const different = await stake(u, pool.id, "101", key);
      expect(different.status).to.equal(409);
      expect(different.body.error.details.reason).to.equal("IDEMPOTENCY_KEY_REUSED");
      const otherRoute = await unstake(u, pool.id, "100", key);
      expect(otherRoute.status).to.equal(409);
      // Keys are per wallet: another wallet may use the same key.
      const v = await newUser();
      await fund(h, v.wallet, 100n);
      expect((await stake(v, pool.id, "100", key)).status).to.equal(200);
    });

    it("50 parallel stakes and unstakes from one wallet never overdraw and never double-apply", async () => {
      const { pool } = await newPool("1");
      const u = await newUser();
      await fund(h, u.wallet, 1000n);
      const ops = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? stake(u, pool.id, "70") : unstake(u, pool.id, "30")));
      const results = await Promise.all(ops);
      expect(results.filter((r) => r.status !== 200 && r.status !== 409).map((r) => r.status)).to.deep.equal([]);
      const staked = await balanceOf(h, account.stake(u.wallet, pool.id).key);
      const available = await balanceOf(h, account.available(u.wallet).key);
      const stakes = results.filter((r, i) => i % 2 === 0 && r.status === 200).length;
      const unstakes = results.filter((r, i) => i % 2 === 1 && r.status === 200).length;
      expect(staked).to.equal(BigInt(stakes * 70 - unstakes * 30));
      expect(staked + available).to.equal(1000n);
      const read = await request(h.app).get(`/api/v1/pools/${pool.id}`);
      expect(read.body.pool.totalStaked).to.equal(staked.toString());
    });

    it("distributes a commission to 3 uneven stakers and the influencer exactly, then stakers claim", async () => {
      const { owner, pool } = await newPool("1", 5000);
      const stakers = [await newUser(), await newUser(), await newUser()];
      const amounts = [1n, 2n, 4n].map((n) => n * 1000n);
      for (const [i, s] of stakers.entries()) {
        await fund(h, s.wallet, amounts[i]!);
        expect((await stake(s, pool.id, amounts[i]!.toString())).status).to.equal(200);
      }
      const [inf] = await h.service.context.sequelize.query(`SELECT id FROM influencers WHERE username = '${owner.username}'`);
      const influencerId = (inf as { id: string }[])[0]!.id;
      const hook = h.service.context.onCommissionBooked!;
      const commissions = [10_001n, 7n, 333_333n];
      for (const commission of commissions) {
        const booked = { conversionId: randomUUID(), orderId: `o-${randomUUID()}`, influencerId, linkId: randomUUID(), commission, currency: "TWIST" };
        await h.service.context.sequelize.transaction((t) => hook(t, booked));
        // Replaying the hook for the same conversion changes nothing.
        await h.service.context.sequelize.transaction((t) => hook(t, booked));
      }
      const total = commissions.reduce((s, c) => s + c, 0n);
      // Total staked 7,000 base units: starter tier caps the 50% share at 10%.
      const expectedStakers = commissions.reduce((s, c) => s + (c * 1000n) / 10_000n, 0n);
      const shares = await Promise.all(stakers.map((s) => balanceOf(h, account.poolRewards(s.wallet, pool.id).key)));
      const influencerGot = await balanceOf(h, account.available(owner.wallet).key);
      expect(shares.reduce((s, x) => s + x, 0n)).to.equal(expectedStakers);
      expect(shares.reduce((s, x) => s + x, 0n) + influencerGot).to.equal(total);
      expect(shares[2]! > shares[1]! && shares[1]! > shares[0]!).to.equal(true);

      const me = await request(h.app).get("/api/v1/me/stakes").set(stakers[2]!.auth);
      expect(me.body.stakes).to.deep.equal([{ poolId: pool.id, poolName: `Pool of ${owner.username}`, influencer: owner.username, staked: "4000", claimable: shares[2]!.toString() }]);
      const claim = await moneyPost(h, stakers[2]!, `/api/v1/pools/${pool.id}/claim`, {});
      expect(claim.status).to.equal(200);
      expect(claim.body).to.include({ claimed: shares[2]!.toString(), claimable: "0" });
      const nothing = await moneyPost(h, stakers[2]!, `/api/v1/pools/${pool.id}/claim`, {});
      expect(nothing.status).to.equal(409);
      const tooMuch = await moneyPost(h, stakers[1]!, `/api/v1/pools/${pool.id}/claim`, { amount: (shares[1]! + 1n).toString() });
      expect(tooMuch.status).to.equal(409);
      const balance = await request(h.app).get("/api/v1/me/balance").set(stakers[2]!.auth);
      expect(balance.body).to.deep.equal({ available: shares[2]!.toString(), staked: "4000", claimable: "0", pendingPayout: "0", total: (4000n + shares[2]!).toString() });

      const read = await request(h.app).get(`/api/v1/pools/${pool.id}`);
      expect(BigInt(read.body.pool.apyBps) > 0n).to.equal(true);
    });

    it("commissions come out of system:commissions shards, one per conversion and the same on a replay, summing to minus all paid", async () => {
      const { owner, pool } = await newPool("1", 5000);
      const staker = await newUser();
      await fund(h, staker.wallet, 1000n);
      expect((await stake(staker, pool.id, "1000")).status).to.equal(200);
      const [inf] = await h.service.context.sequelize.query(`SELECT id FROM influencers WHERE username = '${owner.username}'`);
      const influencerId = (inf as { id: string }[])[0]!.id;
      const hook = h.service.context.onCommissionBooked!;
      const sources = async (conversionId: string) =>
        (
          await h.service.context.sequelize.query<{ key: string }>(
            `SELECT DISTINCT a.key FROM ledger_transfers tr JOIN ledger_accounts a ON a.id = tr.debit_account_id WHERE tr.reference = $1`,
            { bind: [conversionId], type: QueryTypes.SELECT },
          )
        ).map((r) => r.key);
      const booked = Array.from({ length: 24 }, () => ({
        conversionId: randomUUID(),
        orderId: `o-${randomUUID()}`,
        influencerId,
        linkId: randomUUID(),
        commission: 1000n,
        currency: "TWIST",
      }));
      const used = new Set<string>();
      for (const b of booked) {
        await h.service.context.sequelize.transaction((t) => hook(t, b));
        await h.service.context.sequelize.transaction((t) => hook(t, b));
        const keys = await sources(b.conversionId);
        expect(keys, b.conversionId).to.have.length(1);
        expect(keys[0]).to.equal(account.system("commissions", systemShardOf(b.conversionId)).key);
        used.add(keys[0]!);
      }
      expect(used.size, "24 conversions over 16 shards").to.be.greaterThan(4);
      const paid = await h.service.context.sequelize.query<{ paid: string; total: string }>(
        `SELECT (SELECT COALESCE(SUM(amount), 0) FROM ledger_transfers WHERE kind LIKE 'commission_%')::text AS paid,
                (SELECT COALESCE(SUM(balance), 0) FROM ledger_accounts WHERE kind = 'system_commissions')::text AS total`,
        { type: QueryTypes.SELECT },
      );
      expect(BigInt(paid[0]!.total)).to.equal(-BigInt(paid[0]!.paid));
      await expectLedgerConsistent(h);
    });

    it("a conversion booked through the merchant route distributes its commission through the wired hook", async () => {
      const { owner, pool } = await newPool("1", 5000);
      const s = await newUser();
      await fund(h, s.wallet, 500n);
      expect((await stake(s, pool.id, "500")).status).to.equal(200);
      const link = await newLink(h, owner);
      const clickId = await click(h, link.code, { ip: "198.51.100.77" });
      const res = await merchantPost(h, "/api/v1/conversions", { orderId: `order-${randomUUID()}`, clickId, amount: "1000001", currency: "TWIST" });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      const commission = BigInt(res.body.commission);
      expect(commission > 0n).to.equal(true);
      const stakerShare = await balanceOf(h, account.poolRewards(s.wallet, pool.id).key);
      const influencerShare = await balanceOf(h, account.available(owner.wallet).key);
      expect(stakerShare).to.equal((commission * 1000n) / 10_000n);
      expect(stakerShare + influencerShare).to.equal(commission);
    });

    it("another user's stakes are not theirs to move: unstake or claim from a pool they are not in is 409", async () => {
      const { pool } = await newPool("1");
      const a = await newUser();
      const b = await newUser();
      await fund(h, a.wallet, 100n);
      await stake(a, pool.id, "100");
      expect((await unstake(b, pool.id, "100")).status).to.equal(409);
      expect((await moneyPost(h, b, `/api/v1/pools/${pool.id}/claim`, {})).status).to.equal(409);
      expect(await balanceOf(h, account.stake(a.wallet, pool.id).key)).to.equal(100n);
      const bStakes = await request(h.app).get("/api/v1/me/stakes").set(b.auth);
      expect(bStakes.body.stakes).to.deep.equal([]);
    });

    it("a pool id spelled in upper case moves the same position: one staker, one stake account", async () => {
      const { pool } = await newPool("100");
      const s = await newUser();
      await fund(h, s.wallet, 300n);
      expect((await stake(s, pool.id, "100")).status).to.equal(200);
      const upper = await stake(s, pool.id.toUpperCase(), "100");
      expect(upper.status, JSON.stringify(upper.body)).to.equal(200);
      expect(upper.body).to.deep.include({ poolId: pool.id, staked: "200" });
      expect(upper.body.pool).to.deep.equal({ totalStaked: "200", stakerCount: 1 });
      expect(await balanceOf(h, account.stake(s.wallet, pool.id).key)).to.equal(200n);
      const stakes = await request(h.app).get("/api/v1/me/stakes").set(s.auth);
      expect(stakes.body.stakes).to.have.length(1);
      expect(stakes.body.stakes[0]).to.include({ poolId: pool.id, staked: "200" });
      const back = await unstake(s, pool.id.toUpperCase(), "200");
      expect(back.status, JSON.stringify(back.body)).to.equal(200);
      expect(back.body.pool).to.deep.equal({ totalStaked: "0", stakerCount: 0 });
    });
  });
});
