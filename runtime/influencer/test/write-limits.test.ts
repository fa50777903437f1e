// Per-wallet write limits (429 RATE_LIMITED, Retry-After, nothing written) on stake/unstake, link
// creation and payout requests (a retry whose answer is stored replays it, uncounted), and the caching headers: authenticated JSON and errors are
// no-store, public pool search and reads say how long they may be cached.
import { expect } from "chai";
import request from "supertest";
import { account } from "../src/ledger";
import { countRows, expectEnvelope, MERCHANT_DOMAIN, newInfluencer, newUser, startHarness, type Harness, type User, balanceOf, fund, moneyPost } from "./harness";

function expectLimited(res: request.Response, windowSeconds: number): void {
  expect(res.status).to.equal(429);
  expectEnvelope(res.body, "RATE_LIMITED");
  const retryAfter = Number(res.headers["retry-after"]);
  expect(retryAfter).to.be.within(1, windowSeconds);
  expect(res.headers["x-ratelimit-remaining"]).to.equal("0");
  expect(res.headers["cache-control"]).to.equal("no-store");
}

describe("influencer write limits per wallet", () => {
  const WINDOW = 60;
  let h: Harness;
  let poolId: string;
  before(async () => {
    h = await startHarness("wlimits", {
      WRITE_LIMIT_WINDOW_SECONDS: String(WINDOW),
      STAKE_LIMIT_PER_WINDOW: "2",
      LINK_LIMIT_PER_WINDOW: "2",
      PAYOUT_LIMIT_PER_WINDOW: "1",
      PAYOUT_MIN_AMOUNT: "100",
      PAYOUT_FEE_FLAT: "0",
      PAYOUT_FEE_BPS: "0",
    });
    const owner = await newInfluencer(h);
    const pool = await request(h.app).post("/api/v1/pools").set(owner.auth).send({ name: "Limited pool", revenueShareBps: 1000, minStake: "1" });
    expect(pool.status).to.equal(201);
    poolId = pool.body.pool.id;
  });
  after(async () => {
    await h.close();
  });

  it("stake and unstake share one bucket; the next one is 429 with Retry-After and moves nothing; another wallet is unaffected", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 1000n);
    expect((await moneyPost(h, u, `/api/v1/pools/${poolId}/stake`, { amount: "100" })).status).to.equal(200);
    expect((await moneyPost(h, u, `/api/v1/pools/${poolId}/unstake`, { amount: "40" })).status).to.equal(200);
    const limited = await moneyPost(h, u, `/api/v1/pools/${poolId}/stake`, { amount: "100" });
    expectLimited(limited, WINDOW);
    expect(await balanceOf(h, account.stake(u.wallet, poolId).key)).to.equal(60n);
    expect(await balanceOf(h, account.available(u.wallet).key)).to.equal(940n);

    const other = await newUser();
    await fund(h, other.wallet, 1000n);
    expect((await moneyPost(h, other, `/api/v1/pools/${poolId}/stake`, { amount: "100" })).status).to.equal(200);
  });

  it("link creation: the third link in the window is 429 and is not created", async () => {
    const inf = await newInfluencer(h);
    const create = () =>
      request(h.app)
        .post("/api/v1/links")
        .set(inf.auth)
        .send({ targetUrl: `https://${MERCHANT_DOMAIN}/p` });
    expect((await create()).status).to.equal(201);
    expect((await create()).status).to.equal(201);
    expectLimited(await create(), WINDOW);
    expect(await countRows(h, "links l JOIN influencers i ON i.id = l.influencer_id", `i.username = '${inf.username}'`)).to.equal(2);
  });

  it("payout requests: the second in the window is 429 and reserves nothing", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 1000n);
    expect((await moneyPost(h, u, "/api/v1/payouts", { amount: "300" })).status).to.equal(202);
    expectLimited(await moneyPost(h, u, "/api/v1/payouts", { amount: "300" }), WINDOW);
    expect(await balanceOf(h, account.payoutPending(u.wallet).key)).to.equal(300n);
    expect(await countRows(h, "payouts", `wallet = '${u.wallet}'`)).to.equal(1);
  });

  it("a retried stake whose answer is stored replays it, at the limit too, and uses none of the limit; anything else is counted", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 1000n);
    const stake = (key: string, amount = "100") => moneyPost(h, u, `/api/v1/pools/${poolId}/stake`, { amount }, key);
    const first = await stake("retry-key-1");
    expect(first.status).to.equal(200);
    for (let i = 0; i < 3; i++) {
      const again = await stake("retry-key-1");
      expect(again.status).to.equal(200);
      expect(again.headers["idempotent-replayed"]).to.equal("true");
      expect(again.body).to.deep.equal(first.body);
    }
    // Three replays counted nothing: the second new stake is still within the limit of 2.
    const second = await stake("retry-key-2", "50");
    expect(second.status).to.equal(200);
    expect(second.headers["idempotent-replayed"]).to.equal(undefined);

    // At the limit: both stored answers still replay; a new key, or the old key with another body, is refused.
    const atLimit = await stake("retry-key-1");
    expect(atLimit.status).to.equal(200);
    expect(atLimit.headers["idempotent-replayed"]).to.equal("true");
    expect(atLimit.body).to.deep.equal(first.body);
    expect((await stake("retry-key-2", "50")).body).to.deep.equal(second.body);
    expectLimited(await stake("retry-key-3"), WINDOW);
    expectLimited(await stake("retry-key-1", "7"), WINDOW);
    expect(await balanceOf(h, account.stake(u.wallet, poolId).key)).to.equal(150n);
    expect(await balanceOf(h, account.available(u.wallet).key)).to.equal(850n);
  });

  it("a retried payout request at the limit gets its stored answer, and no second payout", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 1000n);
    const first = await moneyPost(h, u, "/api/v1/payouts", { amount: "300" }, "payout-retry-1");
    expect(first.status).to.equal(202);
    const retried = await moneyPost(h, u, "/api/v1/payouts", { amount: "300" }, "payout-retry-1");
    expect(retried.status).to.equal(202);
    expect(retried.headers["idempotent-replayed"]).to.equal("true");
    expect(retried.body).to.deep.equal(first.body);
    expectLimited(await moneyPost(h, u, "/api/v1/payouts", { amount: "300" }, "payout-retry-2"), WINDOW);
    expect(await countRows(h, "payouts", `wallet = '${u.wallet}'`)).to.equal(1);
    expect(await balanceOf(h, account.payoutPending(u.wallet).key)).to.equal(300n);
  });

  it("an unauthenticated write is 401, not counted against anyone", async () => {
    const res = await request(h.app).post("/api/v1/payouts").send({ amount: "300" });
    expect(res.status).to.equal(401);
    expectEnvelope(res.body, "UNAUTHORIZED");
  });

  it("bad input inside the limit is still a 400 envelope", async () => {
    const u = await newUser();
    const res = await moneyPost(h, u, "/api/v1/payouts", { amount: "-5" });
    expect(res.status).to.equal(400);
    expectEnvelope(res.body, "VALIDATION_ERROR");
  });
});

describe("influencer caching headers", () => {
  let h: Harness;
  let owner: User;
  let poolId: string;
  before(async () => {
    h = await startHarness("cachehdr", { POOL_CACHE_TTL_SECONDS: "15" });
    owner = await newInfluencer(h);
    const pool = await request(h.app).post("/api/v1/pools").set(owner.auth).send({ name: "Cached pool", revenueShareBps: 1000, minStake: "1" });
    poolId = pool.body.pool.id;
  });
  after(async () => {
    await h.close();
  });

  it("authenticated JSON is no-store (reads, writes, errors)", async () => {
    for (const path of ["/api/v1/me/balance", "/api/v1/me/stakes", "/api/v1/payouts", "/api/v1/payouts/balance", "/api/v1/influencers/me", "/api/v1/links"]) {
      const res = await request(h.app).get(path).set(owner.auth);
      expect(res.status, path).to.equal(200);
      expect(res.headers["cache-control"], path).to.equal("no-store");
    }
    const denied = await request(h.app).get("/api/v1/me/balance");
    expect(denied.status).to.equal(401);
    expect(denied.headers["cache-control"]).to.equal("no-store");
    const updated = await request(h.app).patch(`/api/v1/pools/${poolId}`).set(owner.auth).send({ description: "x" });
    expect(updated.headers["cache-control"]).to.equal("no-store");
  });

  it("public pool search and pool reads are cacheable for the server-side cache TTL; a missing pool is not", async () => {
    const list = await request(h.app).get("/api/v1/pools?q=cached");
    expect(list.status).to.equal(200);
    expect(list.headers["cache-control"]).to.equal("public, max-age=15");
    const one = await request(h.app).get(`/api/v1/pools/${poolId}`);
    expect(one.headers["cache-control"]).to.equal("public, max-age=15");
    const missing = await request(h.app).get("/api/v1/pools/00000000-0000-4000-8000-000000000000");
    expect(missing.status).to.equal(404);
    expect(missing.headers["cache-control"]).to.equal("no-store");
    const bad = await request(h.app).get("/api/v1/pools?limit=0");
    expect(bad.status).to.equal(400);
    expect(bad.headers["cache-control"]).to.equal("no-store");
  });
});
