// POST /api/v1/conversions (merchant-signed) and GET /api/v1/links/:code/stats: idempotency on
// orderId, attribution for both models and the window, the commission rule and the hook, the stats.
import { expect } from "chai";
import request from "supertest";
import type { CommissionBooked } from "../src/conversions/types";
import { computeCommission, commissionRate } from "../src/conversions/commission";
import { signedHeaders } from "@twist/shared/signed-request";
import { BROWSER, MERCHANT_KEY, SERVICE_KEY, click, countRows, expectEnvelope, merchantPost, newInfluencer, newLink, startHarness, type Harness } from "./harness";

const DAY = 86_400_000;
const PATH = "/api/v1/conversions";
let orderSeq = 0;
const orderId = () => `order-${process.pid}-${++orderSeq}`;

describe("influencer: conversions and stats", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness("p1conv");
  });
  after(async () => {
    await h.close();
  });

  it("the commission rule is floor(amount * bps / 10000) with the link's rate or the default", () => {
    expect(computeCommission(1_000_000_000n, 1000)).to.equal(100_000_000n);
    expect(computeCommission(999n, 1000)).to.equal(99n);
    expect(computeCommission(1n, 9999)).to.equal(0n);
    expect(computeCommission(10n ** 30n - 1n, 10_000)).to.equal(10n ** 30n - 1n);
    expect(commissionRate(null, 1000)).to.equal(1000);
    expect(commissionRate(250, 1000)).to.equal(250);
    expect(() => computeCommission(0n, 10)).to.throw(RangeError);
    expect(() => computeCommission(1n, 10_001)).to.throw(RangeError);
    expect(() => computeCommission(1n, 1.5)).to.throw(RangeError);
  });

  describe("authentication (contract 3, merchant keys only)", () => {
    it("unsigned, wrongly signed, service-key-signed and tampered requests are 401; nothing written", async () => {
      const body = { orderId: orderId(), linkCode: "AAAAAAAAAA", amount: "100", currency: "TWIST" };
      const unsigned = await request(h.app).post(PATH).send(body);
      expect(unsigned.status).to.equal(401);
      expectEnvelope(unsigned.body, "UNAUTHORIZED");
      const serviceKey = await merchantPost(h, PATH, body, SERVICE_KEY);
      expect(serviceKey.status).to.equal(401);
      expect(serviceKey.body.error.details.reason).to.match(/SIGNATURE/);
      const h1 = await signedHeaders("POST", PATH, JSON.stringify(body), MERCHANT_KEY);
      const tampered = await request(h.app)
        .post(PATH)
        .set(h1)
        .set("Content-Type", "application/json")
        .send(JSON.stringify({ ...body, amount: "999999" }));
      expect(tampered.status).to.equal(401);
      expect(await countRows(h, "conversions", `order_id = '${body.orderId}'`)).to.equal(0);
    });
  });

  describe("bad input: 400 envelope, nothing written", () => {
    const ok = { orderId: "bad-input-order", linkCode: "AAAAAAAAAA", amount: "100", currency: "TWIST" };
    const cases: [string, unknown][] = [
      ["missing orderId", { ...ok, orderId: undefined }],
      ["missing amount", { ...ok, amount: undefined }],
      ["neither clickId nor linkCode", { ...ok, linkCode: undefined }],
      ["both clickId and linkCode", { ...ok, clickId: "0b6f1f8e-2c1d-4a5b-9c7d-1e2f3a4b5c6d" }],
      ["negative amount", { ...ok, amount: "-100" }],
      ["decimal amount", { ...ok, amount: "1.5" }],
      ["zero amount", { ...ok, amount: "0" }],
      ["numeric amount", { ...ok, amount: 100 }],
      ["exponent amount", { ...ok, amount: "1e9" }],
      ["oversized amount", { ...ok, amount: "9".repeat(41) }],
      ["currency not configured", { ...ok, currency: "USD" }],
      ["SQL-looking orderId", { ...ok, orderId: "1'; DROP TABLE conversions;--" }],
      ["oversized orderId", { ...ok, orderId: "o".repeat(129) }],
      ["clickId not a uuid", { ...ok, linkCode: undefined, clickId: "1 OR 1=1" }],
      ["linkCode malformed", { ...ok, linkCode: "../../etc" }],
      ["unknown field", { ...ok, influencerId: "0b6f1f8e-2c1d-4a5b-9c7d-1e2f3a4b5c6d" }],
    ];
    for (const [name, body] of cases) {
      it(name, async () => {
        const before = await countRows(h, "conversions");
        const res = await merchantPost(h, PATH, body);
        expect(res.status).to.equal(400);
        expectEnvelope(res.body, "VALIDATION_ERROR");
        expect(await countRows(h, "conversions")).to.equal(before);
      });
    }
  });

  describe("idempotency on orderId", () => {
    it("a replay of the same order gives the same answer and one conversion; a different body is 409", async () => {
      const inf = await newInfluencer(h);
      const link = await newLink(h, inf);
      await click(h, link.code, { ip: "192.0.2.201" });
      const body = { orderId: orderId(), linkCode: link.code, amount: "5000000000", currency: "TWIST" };
      const first = await merchantPost(h, PATH, body);
      expect(first.status).to.equal(201);
      expect(first.body).to.include({
        orderId: body.orderId,
        status: "attributed",
        attribution: "last-click",
        linkCode: link.code,
        amount: "5000000000",
        commission: "500000000",
        commissionBps: 1000,
        currency: "TWIST",
      });
      const replay = await merchantPost(h, PATH, body);
      expect(replay.status).to.equal(first.status);
      expect(replay.body).to.deep.equal(first.body);
      expect(replay.headers["idempotent-replayed"]).to.equal("true");
      const different = await merchantPost(h, PATH, { ...body, amount: "5000000001" });
      expect(different.status).to.equal(409);
      expectEnvelope(different.body, "CONFLICT");
      expect(await countRows(h, "conversions", `order_id = '${body.orderId}'`)).to.equal(1);
    });

    it("concurrent duplicates book one conversion", async () => {
      const inf = await newInfluencer(h);
      const link = await newLink(h, inf);
      await click(h, link.code, { ip: "192.0.2.202" });
      const body = { orderId: orderId(), linkCode: link.code, amount: "1000", currency: "TWIST" };
      const results = await Promise.all(Array.from({ length: 15 }, () => merchantPost(h, PATH, body)));
      for (const r of results) expect(r.status).to.equal(201);
      expect(new Set(results.map((r) => r.body.conversionId)).size).to.equal(1);
      expect(await countRows(h, "conversions", `order_id = '${body.orderId}'`)).to.equal(1);
    });
  });

  describe("attribution", () => {
    // One visitor clicks X's link, then Y's link an hour later, and buys another hour later.
    async function journey(harness: Harness) {
      const x = await newInfluencer(harness);
      const y = await newInfluencer(harness);
      const linkX = await newLink(harness, x);
      const linkY = await newLink(harness, y);
      const visitor = { ip: `192.0.2.${10 + (orderSeq % 200)}`, ua: `${BROWSER} journey-${orderSeq}` };
      const t0 = Date.now() - 3 * 3600_000;
      harness.clock.set(t0);
      const firstClick = await click(harness, linkX.code, visitor);
      harness.clock.set(t0 + 3600_000);
      const lastClick = await click(harness, linkY.code, visitor);
      harness.clock.set(t0 + 2 * 3600_000);
      return { linkX, linkY, firstClick: firstClick!, lastClick: lastClick!, t0 };
    }

    it("last-click (default): the visitor's latest counted click in the window wins", async () => {
      const j = await journey(h);
      try {
        const res = await merchantPost(h, PATH, { orderId: orderId(), clickId: j.firstClick, amount: "1000", currency: "TWIST" });
        expect(res.status).to.equal(201);
        expect(res.body).to.include({ status: "attributed", attribution: "last-click", clickId: j.lastClick, linkCode: j.linkY.code, commission: "100" });
      } finally {
        h.clock.set(Date.now());
      }
    });

    it("first-click: the visitor's earliest counted click in the window wins", async () => {
      const fc = await startHarness("p1convfc", { ATTRIBUTION_MODEL: "first-click" });
      try {
        const j = await journey(fc);
        const res = await merchantPost(fc, PATH, { orderId: orderId(), clickId: j.lastClick, amount: "1000", currency: "TWIST" });
        expect(res.status).to.equal(201);
        expect(res.body).to.include({ status: "attributed", attribution: "first-click", clickId: j.firstClick, linkCode: j.linkX.code });
        const byLink = await merchantPost(fc, PATH, { orderId: orderId(), linkCode: j.linkY.code, amount: "1000", currency: "TWIST" });
        expect(byLink.body).to.include({ attribution: "first-click", clickId: j.lastClick, linkCode: j.linkY.code });
      } finally {
        await fc.close();
      }
    });

    it("a click id still in the Redis stream (not yet flushed) is attributed", async () => {
      const inf = await newInfluencer(h);
      const link = await newLink(h, inf);
      const id = await click(h, link.code, { ip: "192.0.2.203" });
      const res = await merchantPost(h, PATH, { orderId: orderId(), clickId: id, amount: "1000", currency: "TWIST" });
      expect(res.body).to.include({ status: "attributed", clickId: id });
    });

    it("outside the 30-day window: unattributed, no commission", async () => {
      const inf = await newInfluencer(h);
      const link = await newLink(h, inf);
      const t0 = Date.now() - 31 * DAY;
      h.clock.set(t0);
      const id = await click(h, link.code, { ip: "192.0.2.204" });
      h.clock.set(Date.now());
      for (const ref of [{ clickId: id }, { linkCode: link.code }]) {
        const res = await merchantPost(h, PATH, { orderId: orderId(), ...ref, amount: "1000", currency: "TWIST" });
        expect(res.status).to.equal(201);
        expect(res.body).to.include({ status: "unattributed", attribution: null, clickId: null, linkCode: null, commission: "0", commissionBps: null });
      }
    });

    it("an unknown click id is recorded unattributed", async () => {
      const res = await merchantPost(h, PATH, { orderId: orderId(), clickId: "0b6f1f8e-2c1d-4a5b-9c7d-1e2f3a4b5c6d", amount: "1000", currency: "TWIST" });
      expect(res.status).to.equal(201);
      expect(res.body.status).to.equal("unattributed");
    });

    it("a link's own rate overrides the default", async () => {
      const inf = await newInfluencer(h);
      const link = await newLink(h, inf);
      await h.service.context.sequelize.query(`UPDATE links SET commission_bps = 250 WHERE code = '${link.code}'`);
      await click(h, link.code, { ip: "192.0.2.205" });
      const res = await merchantPost(h, PATH, { orderId: orderId(), linkCode: link.code, amount: "1000001", currency: "TWIST" });
      expect(res.body).to.include({ commissionBps: 250, commission: "25000" });
    });
  });

  describe("the commission hook", () => {
    it("runs once per booked conversion inside its transaction; a failing hook rolls the conversion back", async () => {
      const seen: CommissionBooked[] = [];
      let fail = false;
      let visibleInside = -1;
      const hooked = await startHarness(
        "p1convhook",
        {},
        {
          onCommissionBooked: async (t, booked) => {
            const [rows] = await hooked.service.context.sequelize.query(`SELECT 1 FROM conversions WHERE id = '${booked.conversionId}'`, { transaction: t });
            visibleInside = rows.length;
            if (fail) throw new Error("ledger unavailable");
            seen.push(booked);
          },
        },
      );
      try {
        const inf = await newInfluencer(hooked);
        const link = await newLink(hooked, inf);
        await click(hooked, link.code, { ip: "192.0.2.206" });
        const body = { orderId: orderId(), linkCode: link.code, amount: "2000", currency: "TWIST" };
        await Promise.all([merchantPost(hooked, PATH, body), merchantPost(hooked, PATH, body), merchantPost(hooked, PATH, body)]);
        expect(seen).to.have.length(1);
        expect(visibleInside).to.equal(1);
        expect(seen[0]).to.include({ orderId: body.orderId, currency: "TWIST" });
        expect(seen[0]!.commission).to.equal(200n);
        expect(seen[0]!.influencerId).to.match(/^[0-9a-f-]{36}$/);

        fail = true;
        const failed = await merchantPost(hooked, PATH, { ...body, orderId: orderId() });
        expect(failed.status).to.equal(500);
        expectEnvelope(failed.body, "INTERNAL");
        expect(await countRows(hooked, "conversions")).to.equal(1);
      } finally {
        await hooked.close();
      }
    });
  });

  describe("stats", () => {
    it("clicks, unique clicks, conversions, revenue and commission by day, for the owner", async () => {
      const inf = await newInfluencer(h);
      const link = await newLink(h, inf);
      const day1 = new Date(`${new Date(Date.now() - 2 * DAY).toISOString().slice(0, 10)}T10:00:00Z`);
      const day2 = new Date(day1.getTime() + DAY);
      try {
        h.clock.set(day1);
        const firstDay1 = await click(h, link.code, { ip: "198.18.0.1" });
        await click(h, link.code, { ip: "198.18.0.2" });
        await click(h, link.code, { ip: "198.18.0.2", ua: `${BROWSER} other` });
        await merchantPost(h, PATH, { orderId: orderId(), linkCode: link.code, amount: "1000", currency: "TWIST" });
        h.clock.set(day2);
        // The same visitor again a day later (the dedupe window lives in Redis time, so place the row directly).
        await h.service.flush();
        await h.service.context.sequelize.query(
          `INSERT INTO clicks (id, link_id, visitor_hash, ip_hash, occurred_at)
           SELECT gen_random_uuid(), link_id, visitor_hash, ip_hash, :at FROM clicks WHERE id = :id`,
          { replacements: { at: day2, id: firstDay1 } },
        );
        await merchantPost(h, PATH, { orderId: orderId(), linkCode: link.code, amount: "3000", currency: "TWIST" });
        await merchantPost(h, PATH, { orderId: orderId(), linkCode: link.code, amount: "5", currency: "TWIST" });
        await h.service.flush();
        const d1 = day1.toISOString().slice(0, 10);
        const d2 = day2.toISOString().slice(0, 10);
        const res = await request(h.app).get(`/api/v1/links/${link.code}/stats?from=${d1}&to=${d2}`).set(inf.auth);
        expect(res.status).to.equal(200);
        expect(res.body).to.deep.equal({
          code: link.code,
          from: d1,
          to: d2,
          totals: { clicks: 4, uniqueClicks: 3, conversions: 3, revenue: { TWIST: "4005" }, commission: { TWIST: "400" } },
          days: [
            { date: d1, clicks: 3, uniqueClicks: 3, conversions: 1, revenue: { TWIST: "1000" }, commission: { TWIST: "100" } },
            { date: d2, clicks: 1, uniqueClicks: 1, conversions: 2, revenue: { TWIST: "3005" }, commission: { TWIST: "300" } },
          ],
        });
      } finally {
        h.clock.set(Date.now());
      }
    });

    it("defaults to the last 30 days and validates the range", async () => {
      const inf = await newInfluencer(h);
      const link = await newLink(h, inf);
      const res = await request(h.app).get(`/api/v1/links/${link.code}/stats`).set(inf.auth);
      expect(res.status).to.equal(200);
      expect(res.body.days).to.have.length(30);
      for (const q of ["from=2026-13-01", "from=yesterday", "from=2026-02-30", "from=2026-03-02&to=2026-03-01", "from=2020-01-01&to=2026-01-01", "to=1;DROP"]) {
        const bad = await request(h.app).get(`/api/v1/links/${link.code}/stats?${q}`).set(inf.auth);
        expect(bad.status, q).to.equal(400);
        expectEnvelope(bad.body, "VALIDATION_ERROR");
      }
    });
  });
});
