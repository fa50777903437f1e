// Influencer registration, own profile, email verification and the public profile.
import { expect } from "chai";
import Redis from "ioredis";
import request from "supertest";
import { TEST_REDIS_URL } from "../../../test/support/redis";
import { countRows, expectEnvelope, newInfluencer, newUser, startHarness, type Harness } from "./harness";

describe("influencer: influencers", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness("p1inf", { EMAIL_TOKEN_TTL_MINUTES: "60" });
  });
  after(async () => {
    await h.close();
  });

  it("registers, returns the own profile and mails a verification link", async () => {
    const user = await newUser();
    const res = await request(h.app).post("/api/v1/influencers").set(user.auth).send({ username: "Alice_01", displayName: "Alice", email: "Alice@Example.com" });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ username: "alice_01", displayName: "Alice", email: "alice@example.com", emailVerified: false });
    expect(res.body).to.not.have.any.keys("id", "userId", "influencerId", "walletAddress");
    expect(h.mailer.sent.at(-1)!.to).to.equal("alice@example.com");
    expect(h.mailer.lastToken()).to.match(/^[A-Za-z0-9_-]{43}$/);
    const me = await request(h.app).get("/api/v1/influencers/me").set(user.auth);
    expect(me.status).to.equal(200);
    expect(me.body.username).to.equal("alice_01");
  });

  describe("bad registration input: 400 envelope, nothing written", () => {
    const valid = { username: "valid_name", displayName: "Valid", email: "valid@example.com" };
    const cases: [string, unknown][] = [
      ["missing body fields", {}],
      ["missing username", { displayName: "x", email: "a@b.co" }],
      ["username wrong type", { ...valid, username: 12345 }],
      ["username too short", { ...valid, username: "ab" }],
      ["username oversized", { ...valid, username: "a".repeat(33) }],
      ["SQL-looking username", { ...valid, username: "x'; DROP TABLE users;--" }],
      ["reserved username", { ...valid, username: "me" }],
      ["displayName oversized", { ...valid, displayName: "d".repeat(81) }],
      ["displayName control characters", { ...valid, displayName: "bad\u0000name" }],
      ["displayName wrong type", { ...valid, displayName: ["x"] }],
      ["email invalid", { ...valid, email: "not-an-email" }],
      ["email oversized", { ...valid, email: `${"e".repeat(250)}@x.com` }],
      ["unknown field", { ...valid, userId: "00000000-0000-4000-8000-000000000000" }],
      ["array body", [valid]],
      ["null body", null],
    ];
    for (const [name, body] of cases) {
      it(name, async () => {
        const user = await newUser();
        const res = await request(h.app).post("/api/v1/influencers").set(user.auth).set("Content-Type", "application/json").send(JSON.stringify(body));
        expect(res.status).to.equal(400);
        expectEnvelope(res.body, "VALIDATION_ERROR");
        expect(await countRows(h, "influencers i JOIN users u ON u.id = i.user_id", `u.wallet_address = '${user.wallet}'`)).to.equal(0);
      });
    }
    it("malformed JSON and an oversized body", async () => {
      const user = await newUser();
      const bad = await request(h.app).post("/api/v1/influencers").set(user.auth).set("Content-Type", "application/json").send('{"username":');
      expect(bad.status).to.equal(400);
      expect(bad.body.error.details.reason).to.equal("BAD_JSON");
      const big = await request(h.app)
        .post("/api/v1/influencers")
        .set(user.auth)
        .send({ ...valid, displayName: "x".repeat(70_000) });
      expect(big.status).to.equal(400);
      expect(big.body.error.details.reason).to.equal("BODY_TOO_LARGE");
    });
  });

  it("usernames are unique (409 USERNAME_TAKEN), also under concurrency", async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => newUser()));
    const results = await Promise.all(
      users.map((u) => request(h.app).post("/api/v1/influencers").set(u.auth).send({ username: "contested", displayName: "C", email: "c@example.com" })),
    );
    expect(results.filter((r) => r.status === 201)).to.have.length(1);
    for (const r of results.filter((r) => r.status !== 201)) {
      expect(r.status).to.equal(409);
      expect(r.body.error.details.reason).to.equal("USERNAME_TAKEN");
    }
    expect(await countRows(h, "influencers", "username = 'contested'")).to.equal(1);
  });

  it("stores SQL-looking display names verbatim (bound parameters)", async () => {
    const user = await newUser();
    const displayName = "Robert'); DROP TABLE influencers;--";
    const res = await request(h.app).post("/api/v1/influencers").set(user.auth).send({ username: "bobby_tables", displayName, email: "b@example.com" });
    expect(res.status).to.equal(201);
    expect((await request(h.app).get("/api/v1/influencers/bobby_tables")).body.displayName).to.equal(displayName);
  });

  describe("profile updates", () => {
    it("updates the display name; bad input changes nothing", async () => {
      const inf = await newInfluencer(h);
      const ok = await request(h.app).patch("/api/v1/influencers/me").set(inf.auth).send({ displayName: "New Name" });
      expect(ok.status).to.equal(200);
      expect(ok.body.displayName).to.equal("New Name");
      for (const body of [{}, { displayName: "" }, { email: "nope" }, { username: "renamed" }, { displayName: 5 }]) {
        const res = await request(h.app).patch("/api/v1/influencers/me").set(inf.auth).send(body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expectEnvelope(res.body, "VALIDATION_ERROR");
      }
      const me = await request(h.app).get("/api/v1/influencers/me").set(inf.auth);
      expect(me.body).to.include({ displayName: "New Name", username: inf.username });
    });
  });

  describe("email verification", () => {
    it("a token works exactly once", async () => {
      const inf = await newInfluencer(h);
      const token = h.mailer.lastToken();
      const first = await request(h.app).post("/api/v1/influencers/verify-email").send({ token });
      expect(first.status).to.equal(200);
      expect(first.body.emailVerified).to.equal(true);
      const again = await request(h.app).post("/api/v1/influencers/verify-email").send({ token });
      expect(again.status).to.equal(400);
      expect(again.body.error.details.reason).to.equal("TOKEN_USED");
      expect((await request(h.app).get("/api/v1/influencers/me").set(inf.auth)).body.emailVerified).to.equal(true);
    });

    it("an expired token is refused", async () => {
      const inf = await newInfluencer(h);
      const token = h.mailer.lastToken();
      h.clock.advance(61 * 60_000);
      try {
        const res = await request(h.app).post("/api/v1/influencers/verify-email").send({ token });
        expect(res.status).to.equal(400);
        expect(res.body.error.details.reason).to.equal("TOKEN_EXPIRED");
      } finally {
        h.clock.set(Date.now());
      }
      expect((await request(h.app).get("/api/v1/influencers/me").set(inf.auth)).body.emailVerified).to.equal(false);
    });

    it("an unknown or malformed token is refused", async () => {
      const unknown = await request(h.app)
        .post("/api/v1/influencers/verify-email")
        .send({ token: "A".repeat(43) });
      expect(unknown.status).to.equal(400);
      expect(unknown.body.error.details.reason).to.equal("TOKEN_INVALID");
      for (const token of ["short", 42, "' OR 1=1 --".padEnd(43, "x")]) {
        const res = await request(h.app).post("/api/v1/influencers/verify-email").send({ token });
        expect(res.status).to.equal(400);
        expectEnvelope(res.body, "VALIDATION_ERROR");
      }
    });

    it("the verify-email limit is per client IP (the trusted proxy header), not one shared bucket", async () => {
      const attempt = (ip: string) =>
        request(h.app)
          .post("/api/v1/influencers/verify-email")
          .set("X-Forwarded-For", ip)
          .send({ token: "B".repeat(43) });
      for (let i = 0; i < 30; i++) expect((await attempt("198.51.100.60")).status).to.equal(400);
      const limited = await attempt("198.51.100.60");
      expect(limited.status).to.equal(429);
      expectEnvelope(limited.body, "RATE_LIMITED");
      const other = await attempt("198.51.100.61");
      expect(other.status).to.equal(400);
      expect(other.body.error.details.reason).to.equal("TOKEN_INVALID");
      // The bucket is keyed on the salted hash of the IP, as the click limiter's: no raw IP in Redis.
      const redis = new Redis(TEST_REDIS_URL);
      const keys = await redis.keys(`${h.prefix}rl:verify-email-ip:*`).finally(() => redis.disconnect());
      expect(keys.length).to.be.at.least(2);
      expect(keys.join(" ")).to.not.match(/198\.51\.100\.6|127\.0\.0\.1|::1/);
      for (const key of keys) expect(key.slice(h.prefix.length)).to.match(/^rl:verify-email-ip:[0-9a-f]{64}$/);
    });

    it("a resend retires the earlier token; an email change resets verification", async () => {
      const inf = await newInfluencer(h);
      const first = h.mailer.lastToken();
      expect((await request(h.app).post("/api/v1/influencers/me/email-verification").set(inf.auth)).status).to.equal(202);
      const second = h.mailer.lastToken();
      expect(second).to.not.equal(first);
      expect((await request(h.app).post("/api/v1/influencers/verify-email").send({ token: first })).body.error.details.reason).to.equal("TOKEN_USED");
      expect((await request(h.app).post("/api/v1/influencers/verify-email").send({ token: second })).status).to.equal(200);

      const changed = await request(h.app).patch("/api/v1/influencers/me").set(inf.auth).send({ email: "moved@example.com" });
      expect(changed.body).to.include({ email: "moved@example.com", emailVerified: false });
      expect(h.mailer.sent.at(-1)!.to).to.equal("moved@example.com");
      const resendVerified = await request(h.app).post("/api/v1/influencers/verify-email").send({ token: h.mailer.lastToken() });
      expect(resendVerified.body.emailVerified).to.equal(true);
      const already = await request(h.app).post("/api/v1/influencers/me/email-verification").set(inf.auth);
      expect(already.status).to.equal(409);
    });
  });

  describe("public profile", () => {
    it("never exposes email or internal ids", async () => {
      const inf = await newInfluencer(h);
      const res = await request(h.app).get(`/api/v1/influencers/${inf.username}`);
      expect(res.status).to.equal(200);
      expect(Object.keys(res.body).sort()).to.deep.equal(["createdAt", "displayName", "emailVerified", "username"]);
      expect(JSON.stringify(res.body)).to.not.match(/@example\.com|[0-9a-f]{8}-[0-9a-f]{4}-/);
    });

    it("unknown is 404; malformed is 400", async () => {
      const missing = await request(h.app).get("/api/v1/influencers/nobody_here");
      expect(missing.status).to.equal(404);
      expectEnvelope(missing.body, "NOT_FOUND");
      const bad = await request(h.app).get(`/api/v1/influencers/${encodeURIComponent("x' OR '1'='1")}`);
      expect(bad.status).to.equal(400);
      expectEnvelope(bad.body, "VALIDATION_ERROR");
    });
  });
});
