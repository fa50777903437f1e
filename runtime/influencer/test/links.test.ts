// Referral links: allow-listed http(s) targets, own listing, deactivation, unguessable codes.
import { expect } from "chai";
import request from "supertest";
import { LINK_CODE_PATTERN } from "../src/links/code";
import { isMerchantHost } from "../src/links/service";
import { countRows, expectEnvelope, newInfluencer, newLink, startHarness, type Harness } from "./harness";

describe("influencer: links", () => {
  let h: Harness;
  let owner: Awaited<ReturnType<typeof newInfluencer>>;
  before(async () => {
    h = await startHarness("p1links");
    owner = await newInfluencer(h);
  });
  after(async () => {
    await h.close();
  });

  it("creates a link with a short code, the public URL and the effective commission rate", async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const res = await request(h.app)
      .post("/api/v1/links")
      .set(owner.auth)
      .send({ targetUrl: "https://shop.example.com/p/42?color=red", productId: "sku-42", promoCode: "SPRING24", expiresAt });
    expect(res.status).to.equal(201);
    expect(res.body.code).to.match(LINK_CODE_PATTERN);
    expect(res.body).to.include({
      url: `https://twist.test/l/${res.body.code}`,
      targetUrl: "https://shop.example.com/p/42?color=red",
      productId: "sku-42",
      promoCode: "SPRING24",
      active: true,
      commissionBps: 1000,
      expiresAt,
    });
    expect(res.body).to.not.have.any.keys("id", "influencerId");
  });

  it("accepts subdomains of an allowed merchant domain", async () => {
    const res = await request(h.app).post("/api/v1/links").set(owner.auth).send({ targetUrl: "http://eu.merchant.test/x" });
    expect(res.status).to.equal(201);
  });

  describe("bad input: 400 envelope, nothing written", () => {
    const cases: [string, unknown][] = [
      ["missing targetUrl", {}],
      ["targetUrl wrong type", { targetUrl: 42 }],
      ["javascript: URL", { targetUrl: "javascript:alert(1)" }],
      ["ftp URL", { targetUrl: "ftp://shop.example.com/file" }],
      ["data URL", { targetUrl: "data:text/html,<script>alert(1)</script>" }],
      ["not a URL", { targetUrl: "shop.example.com/p/1" }],
      ["domain not allow-listed", { targetUrl: "https://evil.example.net/" }],
      ["look-alike domain", { targetUrl: "https://shop.example.com.evil.net/" }],
      ["suffix trick", { targetUrl: "https://notshop.example.com/" }],
      ["credentials in URL", { targetUrl: "https://user:pw@shop.example.com/" }],
      ["oversized URL", { targetUrl: `https://shop.example.com/${"a".repeat(2100)}` }],
      ["SQL-looking productId", { targetUrl: "https://shop.example.com/", productId: "1' OR '1'='1" }],
      ["oversized promoCode", { targetUrl: "https://shop.example.com/", promoCode: "P".repeat(65) }],
      ["expiresAt in the past", { targetUrl: "https://shop.example.com/", expiresAt: "2001-01-01T00:00:00Z" }],
      ["expiresAt not a date", { targetUrl: "https://shop.example.com/", expiresAt: "tomorrow" }],
      ["commission set by the caller", { targetUrl: "https://shop.example.com/", commissionBps: 10000 }],
      ["influencerId in body", { targetUrl: "https://shop.example.com/", influencerId: "00000000-0000-4000-8000-000000000000" }],
    ];
    for (const [name, body] of cases) {
      it(name, async () => {
        const before = await countRows(h, "links");
        const res = await request(h.app)
          .post("/api/v1/links")
          .set(owner.auth)
          .send(body as object);
        expect(res.status).to.equal(400);
        expectEnvelope(res.body, "VALIDATION_ERROR");
        expect(await countRows(h, "links")).to.equal(before);
      });
    }
  });

  it("isMerchantHost matches exact hosts and subdomains only", () => {
    const domains = ["shop.example.com"];
    expect(isMerchantHost("shop.example.com", domains)).to.equal(true);
    expect(isMerchantHost("a.b.shop.example.com", domains)).to.equal(true);
    expect(isMerchantHost("SHOP.example.com.", domains)).to.equal(true);
    expect(isMerchantHost("xshop.example.com", domains)).to.equal(false);
    expect(isMerchantHost("shop.example.com.evil", domains)).to.equal(false);
  });

  it("lists own links with validated paging", async () => {
    const me = await newInfluencer(h);
    const made = [await newLink(h, me), await newLink(h, me), await newLink(h, me)];
    const res = await request(h.app).get("/api/v1/links?limit=2").set(me.auth);
    expect(res.status).to.equal(200);
    expect(res.body.links).to.have.length(2);
    const all = await request(h.app).get("/api/v1/links").set(me.auth);
    expect(all.body.links.map((l: { code: string }) => l.code).sort()).to.deep.equal(made.map((l) => l.code).sort());
    for (const q of ["limit=0", "limit=101", "limit=abc", "offset=-1", "active=maybe", "limit=1;DROP"]) {
      const bad = await request(h.app).get(`/api/v1/links?${q}`).set(me.auth);
      expect(bad.status, q).to.equal(400);
      expectEnvelope(bad.body, "VALIDATION_ERROR");
    }
  });

  it("deactivates an own link: the redirect stops at once (cache dropped), twice is fine", async () => {
    const link = await newLink(h, owner);
    expect((await request(h.app).get(`/l/${link.code}`).set("User-Agent", "Mozilla/5.0")).status).to.equal(302);
    const res = await request(h.app).post(`/api/v1/links/${link.code}/deactivate`).set(owner.auth);
    expect(res.status).to.equal(200);
    expect(res.body.active).to.equal(false);
    expect(res.body.deactivatedAt).to.be.a("string");
    expect((await request(h.app).get(`/l/${link.code}`).set("User-Agent", "Mozilla/5.0")).status).to.equal(404);
    expect((await request(h.app).post(`/api/v1/links/${link.code}/deactivate`).set(owner.auth)).status).to.equal(200);
    const listed = await request(h.app).get("/api/v1/links?active=false").set(owner.auth);
    expect(listed.body.links.map((l: { code: string }) => l.code)).to.include(link.code);
    const bad = await request(h.app)
      .post(`/api/v1/links/${encodeURIComponent("x'--")}/deactivate`)
      .set(owner.auth);
    expect(bad.status).to.equal(400);
  });

  it("an expired link no longer redirects", async () => {
    const link = await newLink(h, owner, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    h.clock.advance(120_000);
    try {
      const res = await request(h.app).get(`/l/${link.code}`).set("User-Agent", "Mozilla/5.0");
      expect(res.status).to.equal(404);
    } finally {
      h.clock.set(Date.now());
    }
  });

  it("codes are distinct and match the unguessable format", async () => {
    const links = await Promise.all(Array.from({ length: 40 }, () => newLink(h, owner)));
    const codes = new Set(links.map((l) => l.code));
    expect(codes.size).to.equal(40);
    for (const c of codes) expect(c).to.match(LINK_CODE_PATTERN);
  });
});
