// Stateless replicas (issue 21, the local half): two auth instances, two influencer API instances
// and two settlement workers, each with its own connections, on one Postgres database and one Redis
// prefix per service, as two app hosts would run them. The critical path alternates between them:
// nonce issued by one and verified by the other (and single-use across both), rate limits shared
// (auth's per IP, the influencer API's per-wallet write limit),
// identity cache refreshed across instances, click dedupe shared, Idempotency-Keys honoured across
// instances, an event written through one instance received on the other's socket, every payout
// settled exactly once by two workers, and the ledger invariants after.
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { expect } from "chai";
import request from "supertest";
import type { Express } from "express";
import { createRedis } from "@twist/service";
import { createLogger } from "@twist/shared/logger";
import { createApp as createAuthApp } from "../../runtime/auth/src/app";
import { newWallet, requestNonce, testConfig as authConfig, verifyBody } from "../../runtime/auth/test/support";
import { account, checkLedgerInvariants, Ledger } from "../../runtime/influencer/src/ledger";
import { createPayoutService } from "../../runtime/influencer/src/ledger/wiring";
import { createSettlementAdapter, settlementQueueOptions, startSettlementWorker, type RunningSettlementWorker } from "../../runtime/influencer/src/settlement";
import { createSequelize } from "../../runtime/influencer/src/db";
import { connect, startInstance, type Instance } from "../../runtime/influencer/test/events-helpers";
import {
  JWT_KEYS_TEXT,
  MERCHANT_DOMAIN,
  balanceOf,
  countRows,
  expectEnvelope,
  merchantPost,
  newInfluencer,
  newUser,
  startHarness,
  type Harness,
  fund,
} from "../../runtime/influencer/test/harness";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../support/redis";

const silent = createLogger("replicas-test", { level: "silent" });
const AUTH_IP_LIMIT = 6;
const STAKE_LIMIT = 4;
const WRITE_WINDOW_SECONDS = 60;
const ENV = {
  PAYOUT_MIN_AMOUNT: "1000",
  PAYOUT_FEE_FLAT: "10",
  PAYOUT_FEE_BPS: "0",
  STAKE_LIMIT_PER_WINDOW: String(STAKE_LIMIT),
  WRITE_LIMIT_WINDOW_SECONDS: String(WRITE_WINDOW_SECONDS),
};

describe("stateless replicas: two of each service on one Postgres and Redis", function () {
  this.timeout(60_000);
  let h: Harness;
  const inf: Instance[] = [];
  const auth: Express[] = [];
  const authRedis: ReturnType<typeof createRedis>[] = [];
  const authPrefix = testRedisPrefix("replicas-auth");
  const workers: RunningSettlementWorker[] = [];
  const workerDbs: ReturnType<typeof createSequelize>[] = [];

  before(async () => {
    h = await startHarness("replicas", ENV);
    inf.push(await startInstance(h, ENV), await startInstance(h, ENV));
    const config = authConfig({ JWT_KEYS: JWT_KEYS_TEXT, RATE_LIMIT_PER_IP: String(AUTH_IP_LIMIT), TRUSTED_PROXY_HEADER: "X-Forwarded-For" });
    for (let i = 0; i < 2; i++) {
      const redis = createRedis(TEST_REDIS_URL, authPrefix);
      await once(redis, "ready");
      authRedis.push(redis);
      auth.push(createAuthApp(config, { redis, logger: silent }));
    }
    for (let i = 0; i < 2; i++) {
      const seq = createSequelize(h.db.url, { poolMax: 3 });
      workerDbs.push(seq);
      workers.push(startSettlementWorker(settlementQueueOptions(h.config), createPayoutService(h.config, seq, new Ledger(seq)), createSettlementAdapter(h.config), silent));
    }
  });
  after(async () => {
    for (const w of workers) await w.close();
    for (const s of workerDbs) await s.close();
    for (const i of inf) await i.close();
    for (const r of authRedis) r.disconnect();
    await deleteRedisPrefix(authPrefix);
    await h?.close();
  });

  const api = (n: number) => inf[n % 2]!.service.app;
  let ipSeq = 0;
  /** Sign-in: nonce from auth instance n, verify on the other; returns the token. */
  async function signIn(n: number) {
    const wallet = newWallet();
    const ip = `198.51.100.${++ipSeq}`;
    const nonce = await request(auth[n % 2]!)
      .post("/auth/nonce")
      .set("X-Forwarded-For", ip)
      .send({ walletAddress: wallet.address });
    expect(nonce.status).to.equal(200);
    const verified = await request(auth[(n + 1) % 2]!)
      .post("/auth/verify")
      .set("X-Forwarded-For", ip)
      .send(verifyBody(wallet, nonce.body.message));
    expect(verified.status, JSON.stringify(verified.body)).to.equal(200);
    return {
      wallet: wallet.address,
      token: verified.body.accessToken as string,
      auth: { Authorization: `Bearer ${verified.body.accessToken}` },
      walletObj: wallet,
      message: nonce.body.message as string,
      ip,
    };
  }

  it("a nonce issued by one auth instance verifies on the other, once across both", async () => {
    const u = await signIn(0);
    const replay = await request(auth[0]!).post("/auth/verify").set("X-Forwarded-For", u.ip).send(verifyBody(u.walletObj, u.message));
    expect(replay.status).to.equal(401);
    // The token works on both influencer instances.
    for (const n of [0, 1]) expect((await request(api(n)).get("/api/v1/me/balance").set(u.auth)).status).to.equal(200);
  });

  it("the per-IP rate limit is shared: requests alternating between instances hit one budget", async () => {
    const ip = "203.0.113.200";
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_IP_LIMIT + 2; i++) {
      statuses.push(
        (
          await request(auth[i % 2]!)
            .post("/auth/nonce")
            .set("X-Forwarded-For", ip)
            .send({ walletAddress: newWallet().address })
        ).status,
      );
    }
    expect(statuses).to.deep.equal([...Array(AUTH_IP_LIMIT).fill(200), 429, 429]);
    expect((await requestNonce(auth[1]!, newWallet()).catch(() => null)) !== null).to.equal(true); // other IPs are unaffected
  });

  it("the influencer API's per-wallet write limit is shared: stakes alternating between instances hit one budget", async () => {
    const owner = await newInfluencer(h);
    const pool = await request(api(0)).post("/api/v1/pools").set(owner.auth).send({ name: "Limited replica pool", revenueShareBps: 1000, minStake: "1" });
    expect(pool.status, JSON.stringify(pool.body)).to.equal(201);
    const poolId = pool.body.pool.id as string;
    const u = await newUser();
    await fund(h, u.wallet, 10_000n);
    // Stake and unstake share the bucket; alternate both the instance and the kind.
    const write = (i: number) =>
      request(api(i))
        .post(`/api/v1/pools/${poolId}/${i % 2 === 0 ? "stake" : "unstake"}`)
        .set(u.auth)
        .set("Idempotency-Key", `k-${randomUUID()}`)
        .send({ amount: i % 2 === 0 ? "100" : "10" });
    const allowed = [];
    for (let i = 0; i < STAKE_LIMIT; i++) allowed.push(await write(i));
    expect(allowed.map((r) => r.status)).to.deep.equal(Array(STAKE_LIMIT).fill(200));
    // Each instance alone has seen only half of them; together they reached the limit.
    for (const i of [STAKE_LIMIT, STAKE_LIMIT + 1]) {
      const refused = await write(i);
      expect(refused.status, `request ${i} through instance ${i % 2}`).to.equal(429);
      expectEnvelope(refused.body, "RATE_LIMITED");
      expect(Number(refused.headers["retry-after"])).to.be.within(1, WRITE_WINDOW_SECONDS);
    }
    // Nothing moved by the refused ones: two stakes of 100 and two unstakes of 10.
    expect(await balanceOf(h, account.stake(u.wallet, poolId).key)).to.equal(180n);
    expect(await balanceOf(h, account.available(u.wallet).key)).to.equal(9_820n);
    expect(await countRows(h, "ledger_transfers", `reference = '${poolId}'`)).to.equal(STAKE_LIMIT);
    // The budget is the wallet's: another wallet stakes through either instance.
    const other = await newUser();
    await fund(h, other.wallet, 1000n);
    for (const n of [0, 1]) {
      const res = await request(api(n)).post(`/api/v1/pools/${poolId}/stake`).set(other.auth).set("Idempotency-Key", `k-${randomUUID()}`).send({ amount: "100" });
      expect(res.status).to.equal(200);
    }
  });

  it("the critical path alternating between influencer instances; each payout settled once by two workers", async () => {
    const owner = await signIn(1);
    // Instance 1 caches "not registered" for this wallet; registration on instance 0 must still count there.
    expect((await request(api(1)).post("/api/v1/pools").set(owner.auth).send({ name: "P", revenueShareBps: 5000, minStake: "1" })).status).to.equal(403);
    const username = `rep_${randomUUID().slice(0, 8)}`;
    expect(
      (
        await request(api(0))
          .post("/api/v1/influencers")
          .set(owner.auth)
          .send({ username, displayName: "Replica", email: `${username}@example.com` })
      ).status,
    ).to.equal(201);
    const pool = await request(api(1)).post("/api/v1/pools").set(owner.auth).send({ name: "Replica pool", revenueShareBps: 5000, minStake: "1" });
    expect(pool.status, JSON.stringify(pool.body)).to.equal(201);
    const link = await request(api(0))
      .post("/api/v1/links")
      .set(owner.auth)
      .send({ targetUrl: `https://${MERCHANT_DOMAIN}/p/1` });
    expect(link.status).to.equal(201);

    // Click dedupe is shared: the same visitor through either instance is one click.
    const visitor = { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36", "X-Forwarded-For": "192.0.2.44" };
    const clickIds = [];
    for (const n of [0, 1, 0, 1]) {
      const res = await request(api(n)).get(`/l/${link.body.code}`).set(visitor);
      expect(res.status).to.equal(302);
      clickIds.push(new URL(res.headers.location as string).searchParams.get("twist_click"));
    }
    expect(new Set(clickIds).size).to.equal(1);

    // A staker funded, watching its events on instance 1 while writing through instance 0.
    const staker = await signIn(2);
    await fund(h, staker.wallet, 10_000n);
    const socket = await connect(inf[1]!.url, staker.token);
    await socket.waitControl("ready");
    const key = `k-${randomUUID()}`;
    const first = await request(api(0)).post(`/api/v1/pools/${pool.body.pool.id}/stake`).set(staker.auth).set("Idempotency-Key", key).send({ amount: "4000" });
    expect(first.status).to.equal(200);
    const replay = await request(api(1)).post(`/api/v1/pools/${pool.body.pool.id}/stake`).set(staker.auth).set("Idempotency-Key", key).send({ amount: "4000" });
    expect(replay.status).to.equal(200);
    expect(replay.headers["idempotent-replayed"]).to.equal("true");
    expect(replay.body).to.deep.equal(first.body);
    const otherBody = await request(api(1)).post(`/api/v1/pools/${pool.body.pool.id}/stake`).set(staker.auth).set("Idempotency-Key", key).send({ amount: "1" });
    expect(otherBody.status).to.equal(409);
    const [staked] = await socket.waitEvents(1);
    expect(staked).to.deep.include({ type: "stake.changed" });
    expect(staked!.data).to.include({ staked: "4000", available: "6000" });

    // The conversion (through instance 1) attributes the click recorded through instance 0.
    await Promise.all(inf.map((i) => i.service.flush()));
    const conv = await merchantPost({ ...h, app: api(1) }, "/api/v1/conversions", { orderId: `o-${randomUUID()}`, clickId: clickIds[0], amount: "1000000", currency: "TWIST" });
    expect(conv.status, JSON.stringify(conv.body)).to.equal(201);
    expect(BigInt(conv.body.commission) > 0n).to.equal(true);

    // Payouts requested alternately through both instances; two workers race for them.
    const payers = [staker, owner, await signIn(3), await signIn(4)];
    await fund(h, payers[2]!.wallet, 5000n);
    await fund(h, payers[3]!.wallet, 5000n);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const p = payers[i % payers.length]!;
      const res = await request(api(i)).post("/api/v1/payouts").set(p.auth).set("Idempotency-Key", `k-${randomUUID()}`).send({ amount: "1000" });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      ids.push(res.body.payout.id);
    }
    const seq = h.service.context.sequelize;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [rows] = await seq.query(`SELECT count(*)::int AS n FROM payouts WHERE status = 'pending'`);
      if ((rows as { n: number }[])[0]!.n === 0) break;
      if (Date.now() > deadline) throw new Error("payouts still pending");
      await new Promise((r) => setTimeout(r, 100));
    }
    const [settled] = await seq.query(
      `SELECT p.id, p.status, (SELECT count(*)::int FROM ledger_transfers t WHERE t.id = 'payout:' || p.id || ':post') AS posts,
              (SELECT count(*)::int FROM wallet_events e WHERE e.type = 'payout.settled' AND e.data->>'payoutId' = p.id::text) AS events
       FROM payouts p WHERE p.id = ANY($1::uuid[])`,
      { bind: [ids] },
    );
    expect(settled).to.have.length(8);
    for (const row of settled as { status: string; posts: number; events: number }[]) expect(row).to.deep.include({ status: "settled", posts: 1, events: 1 });

    // The staker's socket (instance 1) saw its payout events, once each, in id order.
    const stakerPayouts = ids.filter((_, i) => i % payers.length === 0);
    // stake.changed; commission.received + its notification; per payout pending, settled + its notification.
    await socket.waitEvents(1 + 2 + 3 * stakerPayouts.length, 10_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(socket.events).to.have.length(1 + 2 + 3 * stakerPayouts.length);
    const settledSeen = socket.events.filter((e) => e.type === "payout.settled").map((e) => e.data.payoutId);
    expect([...settledSeen].sort()).to.deep.equal([...stakerPayouts].sort());
    const eventIds = socket.events.map((e) => Number(e.id));
    expect(eventIds).to.deep.equal(eventIds.map((_, i) => i + 1));
    await socket.close();

    const report = await checkLedgerInvariants(seq);
    expect(report.violations).to.deep.equal([]);
    expect(report.sum).to.equal(0n);
  });
});
