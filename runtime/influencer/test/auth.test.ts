// Identity and authorization: the shared contract 1 verifier (JWT and Authorization header vectors), users created on
// first use and cached, and no route letting one influencer touch another's data.
import { expect } from "chai";
import Redis from "ioredis";
import request from "supertest";
import { JWT_AUDIENCE, JWT_ISSUER, signJwt } from "@twist/shared/jwt";
import { parseJwtKeySet } from "@twist/shared/keys";
import { authorizationHeaderCases, loadVector } from "../../../test/support/vectors";
import { TEST_REDIS_URL } from "../../../test/support/redis";
import { expectEnvelope, JWT_KEY_SET, countRows, newInfluencer, newLink, newUser, newWallet, startHarness, type Harness } from "./harness";

interface JwtVectors {
  keys: Record<string, string>;
  now: number;
  valid: { name: string; token: string; now?: number }[];
  invalid: { name: string; token: string; now?: number }[];
}

describe("influencer: identity and authorization", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness("p1auth");
  });
  after(async () => {
    await h.close();
  });

  describe("contract 1 vectors through the identity middleware", () => {
    const vectors = loadVector<JwtVectors>("jwt");
    let v: Harness;
    before(async () => {
      const keys = Object.entries(vectors.keys)
        .map(([kid, secret]) => `${kid}:${secret}`)
        .join(",");
      v = await startHarness("p1jwtvec", { JWT_KEYS: keys }, { jwtClockTimestamp: vectors.now });
    });
    after(async () => {
      await v.close();
    });

    for (const vector of vectors.valid) {
      it(`accepts: ${vector.name}`, async () => {
        const res = await request(v.app).get("/api/v1/influencers/me").set("Authorization", `Bearer ${vector.token}`);
        // Authenticated, but not registered: the identity was established.
        expect(res.status).to.equal(403);
        expect(res.body.error.details).to.deep.equal({ reason: "NOT_REGISTERED" });
      });
    }
    for (const vector of vectors.invalid) {
      it(`refuses with 401: ${vector.name}`, async () => {
        const res = await request(v.app).get("/api/v1/influencers/me").set("Authorization", `Bearer ${vector.token}`);
        expect(res.status).to.equal(401);
        expectEnvelope(res.body, "UNAUTHORIZED");
        expect(res.body.error.details.reason).to.match(/^TOKEN_/);
      });
    }
  });

  describe("Authorization header vectors through the API", () => {
    for (const c of authorizationHeaderCases()) {
      it(`${c.name}: ${c.accepted ? "authenticates" : "401"}`, async () => {
        const user = await newUser();
        const header = c.header(user.token);
        let req = request(h.app).get("/api/v1/influencers/me");
        if (header !== null) req = req.set("Authorization", header);
        const res = await req;
        if (c.accepted) {
          expect(res.status).to.equal(403);
          expect(res.body.error.details).to.deep.equal({ reason: "NOT_REGISTERED" });
        } else {
          expect(res.status).to.equal(401);
          expectEnvelope(res.body, "UNAUTHORIZED");
          expect(res.headers["www-authenticate"]).to.match(/^Bearer realm="twist"/);
        }
      });
    }
  });

  describe("hostile and missing tokens", () => {
    const wallet = newWallet();
    type Claims = ReturnType<typeof claimsNow>;
    // Minted as each case runs: claims dated when the file loaded expire before a slow run gets here.
    const claimsNow = () => {
      const now = Math.floor(Date.now() / 1000);
      return { iss: JWT_ISSUER, aud: JWT_AUDIENCE, sub: wallet, walletAddress: wallet, iat: now, exp: now + 600, jti: "t1" };
    };
    const cases: [string, (claims: Claims) => Promise<string | null>, string][] = [
      ["no Authorization header", async () => null, "TOKEN_MISSING"],
      [
        "alg none",
        async (claims) => {
          const t = await signJwt(claims, JWT_KEY_SET, { alg: "none" });
          return `${t.split(".").slice(0, 2).join(".")}.`;
        },
        "TOKEN_",
      ],
      ["wrong audience", (claims) => signJwt({ ...claims, aud: "someone-else" }, JWT_KEY_SET), "TOKEN_AUDIENCE"],
      ["wrong issuer", (claims) => signJwt({ ...claims, iss: "evil" }, JWT_KEY_SET), "TOKEN_ISSUER"],
      ["expired beyond tolerance", (claims) => signJwt({ ...claims, iat: claims.iat - 1000, exp: claims.iat - 31 }, JWT_KEY_SET), "TOKEN_EXPIRED"],
      ["no exp", (claims) => signJwt({ ...claims, exp: undefined }, JWT_KEY_SET), "TOKEN_CLAIMS"],
      ["sub is not a wallet", (claims) => signJwt({ ...claims, sub: "not-a-wallet", walletAddress: undefined }, JWT_KEY_SET), "TOKEN_CLAIMS"],
      ["unknown kid", (claims) => signJwt(claims, JWT_KEY_SET, { kid: "nope" }), "TOKEN_KID"],
      ["secret of another key set", (claims) => signJwt(claims, parseJwtKeySet("inf-2026:an-entirely-different-secret-0")), "TOKEN_SIGNATURE"],
      ["HS512", (claims) => signJwt(claims, JWT_KEY_SET, { alg: "HS512" }), "TOKEN_ALGORITHM"],
    ];
    const routes: [string, string][] = [
      ["post", "/api/v1/influencers"],
      ["get", "/api/v1/influencers/me"],
      ["patch", "/api/v1/influencers/me"],
      ["post", "/api/v1/influencers/me/email-verification"],
      ["post", "/api/v1/links"],
      ["get", "/api/v1/links"],
      ["post", "/api/v1/links/AAAAAAAAAA/deactivate"],
      ["get", "/api/v1/links/AAAAAAAAAA/stats"],
    ];
    for (const [name, make, reason] of cases) {
      it(`401 on every authenticated route: ${name}`, async () => {
        const token = await make(claimsNow());
        for (const [method, path] of routes) {
          let req = (request(h.app) as any)[method](path);
          if (token !== null) req = req.set("Authorization", `Bearer ${token}`);
          const res = await req.send({});
          expect(res.status, `${method} ${path}`).to.equal(401);
          expectEnvelope(res.body, "UNAUTHORIZED");
          expect(res.body.error.details.reason).to.match(new RegExp(`^${reason}`));
        }
        expect(await countRows(h, "users", `wallet_address = '${wallet}'`)).to.equal(0);
      });
    }
  });

  it("creates the user on first use, once, and caches the mapping in Redis", async () => {
    const user = await newUser();
    const results = await Promise.all(Array.from({ length: 5 }, () => request(h.app).get("/api/v1/influencers/me").set(user.auth)));
    for (const r of results) expect(r.status).to.equal(403);
    expect(await countRows(h, "users", `wallet_address = '${user.wallet}'`)).to.equal(1);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const cached = JSON.parse((await redis.get(`${h.prefix}identity:${user.wallet}`)) ?? "null");
      expect(cached).to.have.property("userId").that.is.a("string");
      expect(cached.influencerId).to.equal(null);
    } finally {
      redis.disconnect();
    }
  });

  it("a cached 'not registered' does not outlive registration", async () => {
    const user = await newUser();
    expect((await request(h.app).get("/api/v1/links").set(user.auth)).status).to.equal(403);
    const reg = await request(h.app).post("/api/v1/influencers").set(user.auth).send({ username: "late_joiner", displayName: "Late", email: "late@example.com" });
    expect(reg.status).to.equal(201);
    expect((await request(h.app).get("/api/v1/links").set(user.auth)).status).to.equal(200);
  });

  describe("user A cannot touch user B's influencer, links or stats", () => {
    let a: Awaited<ReturnType<typeof newInfluencer>>;
    let b: Awaited<ReturnType<typeof newInfluencer>>;
    let bLink: { code: string };
    before(async () => {
      a = await newInfluencer(h);
      b = await newInfluencer(h);
      bLink = await newLink(h, b);
    });

    it("B's link cannot be deactivated by A (404), and stays active", async () => {
      const res = await request(h.app).post(`/api/v1/links/${bLink.code}/deactivate`).set(a.auth);
      expect(res.status).to.equal(404);
      expectEnvelope(res.body, "NOT_FOUND");
      expect(await countRows(h, "links", `code = '${bLink.code}' AND active`)).to.equal(1);
    });

    it("B's stats are 404 for A", async () => {
      const res = await request(h.app).get(`/api/v1/links/${bLink.code}/stats`).set(a.auth);
      expect(res.status).to.equal(404);
      expectEnvelope(res.body, "NOT_FOUND");
    });

    it("A's link list never contains B's links", async () => {
      const own = await newLink(h, a);
      const res = await request(h.app).get("/api/v1/links").set(a.auth);
      expect(res.status).to.equal(200);
      const codes = res.body.links.map((l: { code: string }) => l.code);
      expect(codes).to.include(own.code);
      expect(codes).to.not.include(bLink.code);
    });

    it("A's /me is A's, and ids or wallets in the body are refused, not obeyed", async () => {
      const me = await request(h.app).get("/api/v1/influencers/me").set(a.auth);
      expect(me.body.username).to.equal(a.username);
      const [row] = (await h.service.context.sequelize.query(`SELECT i.id FROM influencers i WHERE username = '${b.username}'`))[0] as { id: string }[];
      const before = await countRows(h, "links");
      for (const extra of [{ influencerId: row!.id }, { userId: row!.id }, { walletAddress: b.wallet }]) {
        const res = await request(h.app)
          .post("/api/v1/links")
          .set(a.auth)
          .send({ targetUrl: "https://shop.example.com/x", ...extra });
        expect(res.status).to.equal(400);
        expectEnvelope(res.body, "VALIDATION_ERROR");
        const patch = await request(h.app)
          .patch("/api/v1/influencers/me")
          .set(a.auth)
          .send({ displayName: "Hijack", ...extra });
        expect(patch.status).to.equal(400);
      }
      expect(await countRows(h, "links")).to.equal(before);
      expect((await request(h.app).get(`/api/v1/influencers/${b.username}`)).body.displayName).to.equal(`Influencer ${b.username}`);
    });

    it("a registered user cannot register a second influencer (409)", async () => {
      const res = await request(h.app).post("/api/v1/influencers").set(a.auth).send({ username: "second_one", displayName: "Two", email: "two@example.com" });
      expect(res.status).to.equal(409);
      expect(res.body.error.details.reason).to.equal("ALREADY_REGISTERED");
      expect(await countRows(h, "influencers", "username = 'second_one'")).to.equal(0);
    });
  });
});
