// The events of every money flow through the real routes and the real settlement worker, and the
// notifications they leave: stake/claim/commission/payout events on the socket, GET/POST
// /api/v1/notifications with cursor pagination, unread count, marking read (ids or all), bad input.
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { QueryTypes } from "sequelize";
import request from "supertest";
import { createLogger } from "@twist/shared/logger";
import { Ledger } from "../src/ledger";
import { createPayoutService } from "../src/ledger/wiring";
import { createSettlementAdapter, settlementQueueOptions, startSettlementWorker, type RunningSettlementWorker } from "../src/settlement";
import { click, expectEnvelope, merchantPost, newInfluencer, newLink, newUser, startHarness, type Harness, type User, expectLedgerConsistent, fund, moneyPost } from "./harness";
import { connect, listenHarness, type Client, type Instance } from "./events-helpers";

describe("events of money flows, and notifications", function () {
  this.timeout(30_000);
  let h: Harness;
  let a: Instance;
  let worker: RunningSettlementWorker;
  before(async () => {
    h = await startHarness("notifications", { PAYOUT_MIN_AMOUNT: "1000", PAYOUT_FEE_FLAT: "10", PAYOUT_FEE_BPS: "0" });
    a = await listenHarness(h);
    const seq = h.service.context.sequelize;
    worker = startSettlementWorker(
      settlementQueueOptions(h.config),
      createPayoutService(h.config, seq, new Ledger(seq)),
      createSettlementAdapter(h.config),
      createLogger("w", { level: "silent" }),
    );
  });
  after(async () => {
    await worker?.close();
    await a?.close();
    await h?.close();
  });
  afterEach(async () => expectLedgerConsistent(h));

  const socket = async (u: User): Promise<Client> => {
    const c = await connect(a.url, u.token);
    await c.waitControl("ready");
    return c;
  };
  const list = (u: User, query = "") => request(h.app).get(`/api/v1/notifications${query}`).set(u.auth);

  it("stake, commission (to the influencer and each staker), claim: one event each, in id order", async () => {
    const owner = await newInfluencer(h);
    const pool = (await request(h.app).post("/api/v1/pools").set(owner.auth).send({ name: "Events pool", revenueShareBps: 5000, minStake: "1" })).body.pool;
    const staker = await newUser();
    await fund(h, staker.wallet, 500n);
    const [cs, co] = [await socket(staker), await socket(owner)];
    expect((await moneyPost(h, staker, `/api/v1/pools/${pool.id}/stake`, { amount: "500" })).status).to.equal(200);
    const [staked] = await cs.waitEvents(1);
    expect(staked).to.deep.include({
      type: "stake.changed",
      data: { poolId: pool.id, kind: "stake", amount: "500", staked: "500", available: "0", pool: { totalStaked: "500", stakerCount: 1 } },
    });

    const link = await newLink(h, owner);
    const clickId = await click(h, link.code, { ip: "198.51.100.90" });
    const conv = await merchantPost(h, "/api/v1/conversions", { orderId: `order-${randomUUID()}`, clickId, amount: "1000000", currency: "TWIST" });
    expect(conv.status, JSON.stringify(conv.body)).to.equal(201);
    const commission = BigInt(conv.body.commission);
    const stakerShare = (commission * 1000n) / 10_000n;
    const [, received, notified] = await cs.waitEvents(3);
    expect(received!.type).to.equal("commission.received");
    expect(received!.data).to.include({ poolId: pool.id, role: "staker", amount: stakerShare.toString(), claimable: stakerShare.toString() });
    expect(received!.data.conversionId).to.be.a("string");
    expect(notified).to.deep.include({ type: "notification.created" });
    expect(notified!.data).to.include({ type: "commission.received" });
    const [ownerReceived] = await co.waitEvents(2);
    expect(ownerReceived!.data).to.include({ role: "influencer", amount: (commission - stakerShare).toString(), available: (commission - stakerShare).toString() });

    expect((await moneyPost(h, staker, `/api/v1/pools/${pool.id}/claim`, {})).status).to.equal(200);
    const claimed = (await cs.waitEvents(4))[3]!;
    expect(claimed).to.deep.include({ type: "claim.posted", data: { poolId: pool.id, claimed: stakerShare.toString(), claimable: "0", available: stakerShare.toString() } });
    expect(cs.events.map((e) => e.id)).to.deep.equal(["1", "2", "3", "4"]);
    // A replayed Idempotency-Key changes nothing, so it emits nothing either.
    const key = `k-${randomUUID()}`;
    await moneyPost(h, staker, `/api/v1/pools/${pool.id}/unstake`, { amount: "500" }, key);
    await moneyPost(h, staker, `/api/v1/pools/${pool.id}/unstake`, { amount: "500" }, key);
    await cs.waitEvents(5);
    await new Promise((r) => setTimeout(r, 200));
    expect(cs.events.map((e) => e.type)).to.deep.equal(["stake.changed", "commission.received", "notification.created", "claim.posted", "stake.changed"]);
    await Promise.all([cs.close(), co.close()]);
  });

  it("a payout emits pending, then settled with its notification, once, after the worker commits", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 5000n);
    const c = await socket(u);
    const res = await moneyPost(h, u, "/api/v1/payouts", { amount: "2000" });
    expect(res.status).to.equal(202);
    const [pending, settled, notified] = await c.waitEvents(3, 10_000);
    expect(pending).to.deep.include({ type: "payout.pending", data: { payoutId: res.body.payout.id, amount: "2000", fee: "10", net: "1990" } });
    expect(settled).to.deep.include({ type: "payout.settled", data: { payoutId: res.body.payout.id, amount: "2000", net: "1990", fee: "10", txSignature: null } });
    expect(notified!.type).to.equal("notification.created");
    const page = await list(u);
    expect(page.status).to.equal(200);
    expect(page.body.unreadCount).to.equal(1);
    expect(page.body.notifications).to.have.length(1);
    expect(page.body.notifications[0]).to.deep.include({ id: notified!.data.notificationId, type: "payout.settled", readAt: null });
    expect(page.body.notifications[0].payload).to.deep.equal(settled!.data);
    await c.close();
  });

  it("a failed payout (voided) emits payout.failed and notifies", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 5000n);
    const c = await socket(u);
    // The void path the worker takes after its last attempt, called directly (an adapter failure needs an RPC).
    await worker.close();
    const res = await moneyPost(h, u, "/api/v1/payouts", { amount: "1500" });
    const payouts = createPayoutService(h.config, h.service.context.sequelize, new Ledger(h.service.context.sequelize));
    expect(await payouts.void(res.body.payout.id, "settlement failed: test")).to.equal(true);
    expect(await payouts.void(res.body.payout.id, "again")).to.equal(false);
    const types = (await c.waitEvents(3)).map((e) => e.type);
    expect(types).to.deep.equal(["payout.pending", "payout.failed", "notification.created"]);
    expect(c.events[1]!.data).to.deep.equal({ payoutId: res.body.payout.id, amount: "1500", reason: "settlement failed: test" });
    const seq = h.service.context.sequelize;
    worker = startSettlementWorker(
      settlementQueueOptions(h.config),
      createPayoutService(h.config, seq, new Ledger(seq)),
      createSettlementAdapter(h.config),
      createLogger("w", { level: "silent" }),
    );
    await c.close();
  });

  describe("GET/POST /api/v1/notifications", () => {
    let u: User;
    let other: User;
    let ids: string[];
    before(async () => {
      u = await newUser();
      other = await newUser();
      // Five notifications for u, one for other, written the way the money flows write them.
      const { recordEvents } = await import("../src/events/record");
      await h.service.context.sequelize.transaction((t) =>
        recordEvents(t, [
          ...[1, 2, 3, 4, 5].map((n) => ({ wallet: u.wallet, type: "commission.received" as const, data: { n } })),
          { wallet: other.wallet, type: "payout.failed" as const, data: { n: 0 } },
        ]),
      );
      ids = (await list(u)).body.notifications.map((n: { id: string }) => n.id);
    });

    it("pages newest first with a cursor and counts unread; only the caller's own", async () => {
      const first = await list(u, "?limit=2");
      expect(first.body.notifications.map((n: { payload: { n: number } }) => n.payload.n)).to.deep.equal([5, 4]);
      expect(first.body.unreadCount).to.equal(5);
      const second = await list(u, `?limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body.notifications.map((n: { payload: { n: number } }) => n.payload.n)).to.deep.equal([3, 2]);
      const last = await list(u, `?limit=2&cursor=${second.body.nextCursor}`);
      expect(last.body.notifications.map((n: { payload: { n: number } }) => n.payload.n)).to.deep.equal([1]);
      expect(last.body.nextCursor).to.equal(null);
      expect((await list(other)).body.notifications).to.have.length(1);
    });

    it("pages by the numeric id when ids cross a power of ten (99 -> 100), not by their text", async () => {
      const w = await newUser();
      const sequelize = h.service.context.sequelize;
      const [row] = await sequelize.query<{ next: string }>(`SELECT last_value + 1 AS next FROM notifications_id_seq`, { type: QueryTypes.SELECT });
      const next = row!.next;
      const power = 10n ** BigInt(String(next).length); // the next power of ten above the sequence
      await sequelize.query(`SELECT setval('notifications_id_seq', ${power - 4n})`);
      const { recordEvents } = await import("../src/events/record");
      await sequelize.transaction((t) =>
        recordEvents(
          t,
          Array.from({ length: 8 }, (_, i) => ({ wallet: w.wallet, type: "commission.received" as const, data: { n: i + 1 } })),
        ),
      );
      const payloads = (res: { body: { notifications: { payload: { n: number } }[] } }) => res.body.notifications.map((n) => n.payload.n);
      const first = await list(w, "?limit=5");
      expect(payloads(first)).to.deep.equal([8, 7, 6, 5, 4]);
      expect(payloads(await list(w, `?limit=5&cursor=${first.body.nextCursor}`))).to.deep.equal([3, 2, 1]);
    });

    it("marks ids read (another wallet's ids change nothing), then all; twice changes nothing more", async () => {
      const otherId = (await list(other)).body.notifications[0].id;
      const some = await request(h.app)
        .post("/api/v1/notifications/read")
        .set(u.auth)
        .send({ ids: [ids[0], ids[1], otherId] });
      expect(some.body).to.deep.equal({ updated: 2, unreadCount: 3 });
      expect((await list(other)).body.unreadCount).to.equal(1);
      expect((await list(u, "?unread=true")).body.notifications).to.have.length(3);
      const all = await request(h.app).post("/api/v1/notifications/read").set(u.auth).send({ all: true });
      expect(all.body).to.deep.equal({ updated: 3, unreadCount: 0 });
      const again = await request(h.app).post("/api/v1/notifications/read").set(u.auth).send({ all: true });
      expect(again.body).to.deep.equal({ updated: 0, unreadCount: 0 });
      expect((await list(u)).body.notifications.every((n: { readAt: string | null }) => n.readAt !== null)).to.equal(true);
    });

    it("bad input is 400 with the envelope; no token is 401", async () => {
      for (const body of [{}, { ids: [] }, { ids: ["abc"] }, { ids: ["1"], all: true }, { all: false }, { ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) }]) {
        const res = await request(h.app).post("/api/v1/notifications/read").set(u.auth).send(body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expectEnvelope(res.body, "VALIDATION_ERROR");
      }
      for (const q of ["?limit=0", "?limit=101", "?cursor=abc", "?unread=maybe"]) expect((await list(u, q)).status, q).to.equal(400);
      expect((await request(h.app).get("/api/v1/notifications")).status).to.equal(401);
      expect((await request(h.app).post("/api/v1/notifications/read").send({ all: true })).status).to.equal(401);
    });
  });
});
