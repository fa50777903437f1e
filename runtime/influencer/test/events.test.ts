// GET /api/v1/events over real sockets against the real app, Postgres (LISTEN/NOTIFY, the replay
// log) and Redis: delivery after commit (a commit that fails emits nothing), isolation between wallets,
// replay on reconnect within the log's bounds (1,000 events, 24 h), fan-out between two instances, the
// slow-client bound, heartbeats, caps, and every refusal.
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { metricsAppOf } from "@twist/service";
import request from "supertest";
import { signIdentityToken, signJwt } from "@twist/shared/jwt";
import { EVENTS_CLOSE } from "@twist/shared/events";
import { EventLog } from "../src/events/log";
import { REPLAY_LOG_MAX_AGE_HOURS, recordEvents } from "../src/events/record";
import { account } from "../src/ledger";
import {
  JWT_KEY_SET,
  balanceOf,
  countRows,
  expectEnvelope,
  fund,
  moneyPost,
  newInfluencer,
  newUser,
  startHarness,
  type Harness,
  deliverRewards,
  expectLedgerConsistent,
  rewardMessage,
} from "./harness";
import { connect, listenHarness, refusal, startInstance, until, type Instance } from "./events-helpers";

const ENV = {
  REWARD_DAILY_CAP: "1000000",
  EVENTS_MAX_SOCKETS_PER_WALLET: "3",
  EVENTS_AUTH_TIMEOUT_MS: "300",
  EVENTS_ALLOWED_ORIGINS: "https://app.twist.test",
};

describe("events WebSocket", function () {
  this.timeout(20_000);
  let h: Harness;
  let a: Instance;
  let b: Instance;
  before(async () => {
    h = await startHarness("events", ENV);
    a = await listenHarness(h);
    b = await startInstance(h, ENV);
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await h?.close();
  });
  afterEach(async () => expectLedgerConsistent(h));

  const credit = async (wallet: string, earned = "1000") => {
    const m = rewardMessage(wallet, { earned });
    const res = await deliverRewards(h, { messages: [m] });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return m;
  };
  const newPool = async () => {
    const owner = await newInfluencer(h);
    const pool = await request(h.app).post("/api/v1/pools").set(owner.auth).send({ name: "Events pool", revenueShareBps: 1000, minStake: "1" });
    expect(pool.status, JSON.stringify(pool.body)).to.equal(201);
    return pool.body.pool.id as string;
  };

  it("a credit arrives as reward.credited within 1 s, framed as contract 7", async () => {
    const u = await newUser();
    const c = await connect(a.url, u.token);
    const ready = await c.waitControl("ready");
    expect(ready).to.include({ v: 1, wallet: u.wallet, lastEventId: "0" });
    const started = Date.now();
    const m = await credit(u.wallet, "1500");
    const [event] = await c.waitEvents(1, 1000);
    expect(Date.now() - started).to.be.below(1000);
    expect(Object.keys(event!).sort()).to.deep.equal(["at", "data", "id", "type", "v"]);
    expect(event).to.deep.include({ v: 1, type: "reward.credited", id: "1", data: { vauId: m.id, amount: "1500", available: "1500" } });
    expect(new Date(event!.at).toISOString()).to.equal(event!.at);
    await c.close();
  });

  it("fans out across instances: written through A, received on a socket of B", async () => {
    const u = await newUser();
    const onB = await connect(b.url, u.token);
    await onB.waitControl("ready");
    const m = await credit(u.wallet); // h.app is instance A
    const [event] = await onB.waitEvents(1, 1000);
    expect(event!.data.vauId).to.equal(m.id);
    await onB.close();
  });

  it("a wallet receives only its own events", async () => {
    const [x, y] = [await newUser(), await newUser()];
    const cx = await connect(a.url, x.token);
    const cy = await connect(b.url, y.token);
    await Promise.all([cx.waitControl("ready"), cy.waitControl("ready")]);
    for (let i = 0; i < 5; i++) await credit(x.wallet);
    await cx.waitEvents(5);
    await new Promise((r) => setTimeout(r, 200));
    expect(cy.events).to.deep.equal([]);
    expect(cx.events.map((e) => e.id)).to.deep.equal(["1", "2", "3", "4", "5"]);
    await Promise.all([cx.close(), cy.close()]);
  });

  it("reconnecting with lastEventId replays exactly the missed events, then continues live", async () => {
    const u = await newUser();
    const first = await connect(a.url, u.token);
    await first.waitControl("ready");
    await credit(u.wallet);
    await credit(u.wallet);
    const seen = await first.waitEvents(2);
    await first.close();
    const missed = [await credit(u.wallet), await credit(u.wallet), await credit(u.wallet)];
    // The second time, on the other instance and with first-message auth.
    const again = await connect(b.url, u.token, { via: "message", lastEventId: seen[1]!.id });
    const ready = await again.waitControl("ready");
    expect(ready).to.include({ lastEventId: "5" });
    expect(again.events.map((e) => [e.id, e.data.vauId])).to.deep.equal(missed.map((m, i) => [String(3 + i), m.id]));
    const live = await credit(u.wallet);
    const all = await again.waitEvents(4);
    expect(all[3]).to.deep.include({ id: "6", data: { vauId: live.id, amount: "1000", available: "6000" } });
    await new Promise((r) => setTimeout(r, 100));
    expect(again.events).to.have.length(4);
    await again.close();
  });

  it("a lastEventId older than the log is told to refetch, and the stream goes on from the head", async () => {
    const u = await newUser();
    await h.service.context.sequelize.transaction((t) =>
      recordEvents(
        t,
        Array.from({ length: 1005 }, () => ({ wallet: u.wallet, type: "reward.credited" as const, data: { n: 1 } })),
      ),
    );
    const c = await connect(a.url, u.token, { lastEventId: "2" });
    expect(await c.waitControl("ready")).to.include({ lastEventId: "1005" });
    expect(c.controls[0]).to.deep.equal({ v: 1, control: "refetch", reason: "REPLAY_WINDOW_EXCEEDED", oldestEventId: "6", lastEventId: "1005" });
    expect(c.events).to.deep.equal([]);
    await credit(u.wallet);
    expect((await c.waitEvents(1))[0]!.id).to.equal("1006");
    await c.close();
  });

  it("a rolled-back transfer emits nothing and consumes no id", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 1000n);
    const poolId = await newPool();
    const c = await connect(a.url, u.token);
    await c.waitControl("ready");
    const seq = h.service.context.sequelize;
    const balances = async () => [await balanceOf(h, account.available(u.wallet).key), await balanceOf(h, account.stake(u.wallet, poolId).key)];
    const transfersOf = () => countRows(h, "ledger_transfers", `id LIKE 'stake:${u.wallet}:%'`);
    // A real stake through the API: the ledger transfer, the pool totals, the event (head, log,
    // NOTIFY) and the idempotency answer are all written; then the commit fails (a deferred
    // constraint trigger that raises for this wallet runs at COMMIT), so Postgres rolls it all back.
    await seq.query(`CREATE FUNCTION fail_commit_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.wallet = '${u.wallet}' THEN RAISE EXCEPTION 'commit refused by the test'; END IF; RETURN NEW; END $$`);
    await seq.query(`CREATE CONSTRAINT TRIGGER fail_commit_for_test AFTER INSERT ON wallet_events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_commit_for_test()`);
    const key = `k-${randomUUID()}`;
    try {
      const failed = await moneyPost(h, u, `/api/v1/pools/${poolId}/stake`, { amount: "400" }, key);
      expect(failed.status, JSON.stringify(failed.body)).to.equal(500);
      expectEnvelope(failed.body, "INTERNAL");
    } finally {
      await seq.query(`DROP TRIGGER fail_commit_for_test ON wallet_events; DROP FUNCTION fail_commit_for_test()`);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(c.events).to.deep.equal([]);
    expect(await balances()).to.deep.equal([1000n, 0n]);
    expect(await transfersOf()).to.equal(0);
    expect(await countRows(h, "wallet_event_heads", `wallet = '${u.wallet}'`)).to.equal(0);
    // Rejected over the daily cap: nothing is posted for the message and no id is taken.
    const over = await deliverRewards(h, { messages: [rewardMessage(u.wallet, { earned: "1000001" })] });
    expect(over.body.results[0]).to.include({ status: "rejected", code: "DAILY_CAP_EXCEEDED" });
    // The same request again (its key was not stored either) commits, and its event is the wallet's first.
    const ok = await moneyPost(h, u, `/api/v1/pools/${poolId}/stake`, { amount: "400" }, key);
    expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
    expect(ok.headers["idempotent-replayed"]).to.not.equal("true");
    const [event] = await c.waitEvents(1);
    expect(event).to.deep.include({ id: "1", type: "stake.changed" });
    expect(event!.data).to.include({ staked: "400", available: "600" });
    await new Promise((r) => setTimeout(r, 200));
    expect(c.events).to.have.length(1);
    expect(await balances()).to.deep.equal([600n, 400n]);
    expect(await transfersOf()).to.equal(1);
    await c.close();
  });

  it("events older than 24 h are not replayed: a lastEventId before them is told to refetch; they are pruned", async () => {
    const u = await newUser();
    for (let i = 0; i < 5; i++) await credit(u.wallet);
    const seq = h.service.context.sequelize;
    // Time moves by backdating the rows: events 1-3 just past the age bound, 4 just inside it.
    const age = (id: number, hours: number, minutes: number) =>
      seq.query(`UPDATE wallet_events SET at = now() - make_interval(hours => $3, mins => $4) WHERE wallet = $1 AND id = $2`, { bind: [u.wallet, id, hours, minutes] });
    for (const id of [1, 2, 3]) await age(id, REPLAY_LOG_MAX_AGE_HOURS, 1);
    await age(4, REPLAY_LOG_MAX_AGE_HOURS - 1, 59);

    const missedExpired = await connect(a.url, u.token, { lastEventId: "1" });
    expect(await missedExpired.waitControl("ready")).to.include({ lastEventId: "5" });
    expect(missedExpired.controls[0]).to.deep.equal({ v: 1, control: "refetch", reason: "REPLAY_WINDOW_EXCEEDED", oldestEventId: "4", lastEventId: "5" });
    expect(missedExpired.events).to.deep.equal([]);
    await missedExpired.close();

    // The last expired id received: everything after it is retained, so it replays 4 and 5 only.
    const atEdge = await connect(b.url, u.token, { lastEventId: "3" });
    expect(await atEdge.waitControl("ready")).to.include({ lastEventId: "5" });
    expect(atEdge.controls.map((c) => c.control)).to.deep.equal(["ready"]);
    expect(atEdge.events.map((e) => e.id)).to.deep.equal(["4", "5"]);
    await atEdge.close();

    // Every event expired: refetch, and the stream starts at the head.
    for (const id of [4, 5]) await age(id, REPLAY_LOG_MAX_AGE_HOURS, 1);
    const allExpired = await connect(a.url, u.token, { lastEventId: "0" });
    expect(await allExpired.waitControl("ready")).to.include({ lastEventId: "5" });
    expect(allExpired.controls[0]).to.deep.include({ control: "refetch", oldestEventId: "6", lastEventId: "5" });
    expect(allExpired.events).to.deep.equal([]);

    // The periodic prune deletes them (and only expired rows: another wallet's recent event stays).
    const other = await newUser();
    await credit(other.wallet);
    expect(await new EventLog(seq).pruneExpired()).to.equal(5);
    expect(await countRows(h, "wallet_events", `wallet = '${u.wallet}'`)).to.equal(0);
    expect(await countRows(h, "wallet_events", `wallet = '${other.wallet}'`)).to.equal(1);
    // Ids go on from the head, not from what is left in the log.
    await credit(u.wallet);
    expect((await allExpired.waitEvents(1))[0]!.id).to.equal("6");
    await allExpired.close();
  });

  it("the write path leaves expired events to the periodic prune, and no read returns them", async () => {
    const u = await newUser();
    await credit(u.wallet);
    await credit(u.wallet);
    await h.service.context.sequelize.query(`UPDATE wallet_events SET at = now() - make_interval(hours => $2, mins => 1) WHERE wallet = $1 AND id = 1`, {
      bind: [u.wallet, REPLAY_LOG_MAX_AGE_HOURS],
    });
    await credit(u.wallet);
    const stored = async () => {
      const [rows] = await h.service.context.sequelize.query(`SELECT id::int AS id FROM wallet_events WHERE wallet = $1 ORDER BY id`, { bind: [u.wallet] });
      return (rows as { id: number }[]).map((r) => r.id);
    };
    expect(await stored()).to.deep.equal([1, 2, 3]);
    const log = new EventLog(h.service.context.sequelize);
    expect((await log.after(u.wallet, 0n)).map((f) => f.id)).to.deep.equal(["2", "3"]);
    expect(await log.pruneExpired()).to.be.at.least(1);
    expect(await stored()).to.deep.equal([2, 3]);
  });

  it("after the listener's Postgres connection is killed, events committed meanwhile still arrive", async () => {
    const u = await newUser();
    const c = await connect(b.url, u.token);
    await c.waitControl("ready");
    await h.service.context.sequelize.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'twist-events-listener' AND datname = current_database()`);
    const m = await credit(u.wallet);
    const [event] = await c.waitEvents(1, 8000);
    expect(event!.data.vauId).to.equal(m.id);
    await credit(u.wallet);
    expect((await c.waitEvents(2, 8000))[1]!.id).to.equal("2");
    await c.close();
  });

  describe("refusals", () => {
    it("a wrong, expired or missing protocol token is refused with 401 and the envelope", async () => {
      const u = await newUser();
      const forged = `${u.token.slice(0, -4)}AAAA`;
      const bad = await refusal(a.url, forged);
      expect(bad.status).to.equal(401);
      expectEnvelope(bad.body, "UNAUTHORIZED");
      expect(bad.body.error.details.reason).to.equal("TOKEN_SIGNATURE");
      const expired = (await signIdentityToken(u.wallet, JWT_KEY_SET, { now: Math.floor(Date.now() / 1000) - 3600 })).token;
      expect((await refusal(a.url, expired)).body.error.details.reason).to.equal("TOKEN_EXPIRED");
      const noneAlg = await signJwt({ sub: u.wallet }, JWT_KEY_SET, { alg: "none" });
      expect((await refusal(a.url, noneAlg)).status).to.equal(401);
    });

    it("a token in the query string is refused (400) even when valid", async () => {
      const u = await newUser();
      const res = await refusal(a.url, u.token, { query: `?token=${u.token}` });
      expect(res.status).to.equal(400);
      expectEnvelope(res.body, "VALIDATION_ERROR");
      expect((await refusal(a.url, u.token, { lastEventId: "x1" })).status).to.equal(400);
    });

    it("a foreign Origin is refused (403); the allowed one and no Origin are accepted", async () => {
      const u = await newUser();
      const res = await refusal(a.url, u.token, { origin: "https://evil.example" });
      expect(res.status).to.equal(403);
      expectEnvelope(res.body, "FORBIDDEN");
      const ok = await connect(a.url, u.token, { origin: "https://app.twist.test" });
      await ok.waitControl("ready");
      await ok.close();
    });

    it("first-message auth: a bad token closes 4401 with the reason, silence closes 4408, junk closes 4400", async () => {
      const u = await newUser();
      const bad = await connect(a.url, `${u.token}x`, { via: "message" });
      expect(await bad.closed).to.deep.equal({ code: EVENTS_CLOSE.UNAUTHORIZED, reason: "TOKEN_SIGNATURE" });
      const silent = await connect(a.url, null, { via: "message" });
      expect((await silent.closed).code).to.equal(EVENTS_CLOSE.AUTH_TIMEOUT);
      const junk = await connect(a.url, null, { via: "message" });
      junk.ws.send("not json");
      expect((await junk.closed).code).to.equal(EVENTS_CLOSE.BAD_MESSAGE);
      expect(bad.events.length + silent.events.length + junk.events.length).to.equal(0);
    });

    it("a token that expires while connected closes the socket with 4419; a fresh token extends it", async () => {
      const u = await newUser();
      const c = await connect(a.url, u.token);
      const extended = await connect(a.url, u.token);
      await Promise.all([c.waitControl("ready"), extended.waitControl("ready")]);
      // Both sockets take a token that expires soon, minted once they are open: a slow connect on a
      // loaded machine cannot use up its lifetime (a 1 s token minted before connecting did).
      const short = (await signIdentityToken(u.wallet, JWT_KEY_SET, { ttlSeconds: 2 })).token;
      for (const s of [c, extended]) s.ws.send(JSON.stringify({ type: "auth", token: short }));
      extended.ws.send(JSON.stringify({ type: "auth", token: u.token }));
      expect((await c.closed).code).to.equal(EVENTS_CLOSE.TOKEN_EXPIRED);
      await new Promise((r) => setTimeout(r, 300));
      expect(extended.ws.readyState).to.equal(extended.ws.OPEN);
      // Another wallet's token cannot take the socket over.
      extended.ws.send(JSON.stringify({ type: "auth", token: (await newUser()).token }));
      expect(await extended.closed).to.deep.equal({ code: EVENTS_CLOSE.UNAUTHORIZED, reason: "TOKEN_CLAIMS" });
    });

    it("caps sockets per wallet (429 on upgrade) and frees the slot on close", async () => {
      const u = await newUser();
      const open = await Promise.all([1, 2, 3].map(() => connect(a.url, u.token)));
      await Promise.all(open.map((c) => c.waitControl("ready")));
      const res = await refusal(a.url, u.token);
      expect(res.status).to.equal(429);
      expectEnvelope(res.body, "RATE_LIMITED");
      expect(res.headers["retry-after"]).to.equal("10");
      // Counted per instance (docs/api/events.md): the other instance still takes the wallet's socket.
      const onB = await connect(b.url, u.token);
      await onB.waitControl("ready");
      await onB.close();
      await open[0]!.close();
      await until(() => a.service.events.hub.size === open.length - 1, 2000, "slot freed");
      const again = await connect(a.url, u.token);
      await again.waitControl("ready");
      await Promise.all([again.close(), open[1]!.close(), open[2]!.close()]);
    });

    it("a plain GET (no upgrade) answers 426 with the envelope", async () => {
      const res = await request(h.app).get("/api/v1/events");
      expect(res.status).to.equal(426);
      expectEnvelope(res.body, "UPGRADE_REQUIRED");
    });
  });
});

describe("events WebSocket: limits", function () {
  this.timeout(30_000);
  let h: Harness;
  let a: Instance;
  before(async () => {
    h = await startHarness("eventslimits", { EVENTS_MAX_BUFFERED_BYTES: "65536", EVENTS_MAX_SOCKETS_PER_IP: "4" });
    a = await listenHarness(h);
  });
  after(async () => {
    await a?.close();
    await h?.close();
  });

  it("a client that does not read is dropped once its send buffer passes the bound; memory stays bounded", async () => {
    const slow = await newUser();
    const fast = await newUser();
    const cs = await connect(a.url, slow.token);
    const cf = await connect(a.url, fast.token);
    await Promise.all([cs.waitControl("ready"), cf.waitControl("ready")]);
    (cs.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const blob = "x".repeat(4000);
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 8; i++) {
      await h.service.context.sequelize.transaction((t) =>
        recordEvents(t, [
          ...Array.from({ length: 250 }, () => ({ wallet: slow.wallet, type: "reward.credited" as const, data: { blob } })),
          { wallet: fast.wallet, type: "reward.credited" as const, data: { i } },
        ]),
      );
    }
    await until(() => a.service.events.hub.size === 1, 10_000, "the slow socket dropped");
    // The fast client on the same instance got all of its events meanwhile.
    expect((await cf.waitEvents(8)).map((e) => e.data.i)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    const metrics = await request(metricsAppOf(h.app)).get("/metrics");
    expect(metrics.text).to.match(/events_slow_consumers_total\{[^}]*\} 1/);
    // 8 MB were published to the slow wallet; the server held at most the bound for it.
    expect(process.memoryUsage().rss - before).to.be.below(64 * 1024 * 1024);
    await cf.close();
  });

  it("caps sockets per IP (before authentication, so strangers cannot exhaust it)", async () => {
    const open = await Promise.all([1, 2, 3, 4].map(() => connect(a.url, null, { via: "message" })));
    const res = await refusal(a.url, (await newUser()).token);
    expect(res.status).to.equal(429);
    for (const c of open) c.ws.terminate();
    await until(
      async () => {
        try {
          const c = await connect(a.url, (await newUser()).token);
          await c.close();
          return true;
        } catch {
          return false;
        }
      },
      3000,
      "IP slots released",
    );
  });
});

describe("events WebSocket: heartbeats", function () {
  this.timeout(20_000);
  let h: Harness;
  let a: Instance;
  before(async () => {
    h = await startHarness("eventsping", { EVENTS_PING_INTERVAL_MS: "200" });
    a = await listenHarness(h);
  });
  after(async () => {
    await a?.close();
    await h?.close();
  });

  it("heartbeats close a socket that stops answering pings", async () => {
    const live = await connect(a.url, (await newUser()).token);
    await live.waitControl("ready");
    const dead = await connect(a.url, (await newUser()).token, { autoPong: false });
    const closed = await dead.closed;
    expect(closed.code).to.equal(1006); // terminated: no close frame for a peer that is gone
    expect(live.ws.readyState).to.equal(live.ws.OPEN);
    await live.close();
  });
});
