import { expect } from "chai";
import request from "supertest";
import bs58 from "bs58";
import { verifyIdentityToken, signJwt, JWT_TTL_SECONDS } from "@twist/shared/jwt";
import { parseJwtKeySet } from "@twist/shared/keys";
import { buildSiwsMessage } from "@twist/shared/siws";
import { listen } from "@twist/service";
import { NONCE_TTL_MS, liveKey } from "../src/nonces";
import { authorizationHeaderCases } from "../../../test/support/vectors";
import { alter, newWallet, requestNonce, startService, verifyBody, type TestService, type Wallet } from "./support";

describe("auth: wallet sign-in", () => {
  let svc: TestService;
  before(async () => {
    svc = await startService("signin");
  });
  after(() => svc.close());
  beforeEach(() => {
    svc.clock.now = Date.now();
  });

  const verify = (body: unknown) =>
    request(svc.app)
      .post("/auth/verify")
      .send(body as object);

  async function expect401(body: unknown, code: string) {
    const res = await verify(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(401);
    expect(res.body.error.code).to.equal(code);
    expect(res.body.error.requestId).to.equal(res.headers["x-request-id"]);
    expect(res.body).to.not.have.property("accessToken");
  }

  async function signIn(wallet: Wallet, message: string, encoding: "base58" | "base64" = "base58") {
    const res = await verify(verifyBody(wallet, message, encoding));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as { accessToken: string; tokenType: string; expiresIn: number };
  }

  describe("happy path", () => {
    it("issues the contract 2 message bound to the wallet, stored for 5 minutes", async () => {
      const wallet = newWallet();
      const res = await request(svc.app).post("/auth/nonce").send({ walletAddress: wallet.address });
      expect(res.status).to.equal(200);
      expect(res.headers["cache-control"]).to.equal("no-store");
      const { nonce, message, issuedAt, expiresAt } = res.body;
      expect(nonce).to.match(/^[0-9a-f]{32}$/);
      expect(Date.parse(expiresAt) - Date.parse(issuedAt)).to.equal(NONCE_TTL_MS);
      expect(issuedAt).to.equal(new Date(svc.clock.now).toISOString());
      expect(message).to.equal(
        buildSiwsMessage({ domain: "app.twist.test", address: wallet.address, uri: "https://app.twist.test", chainId: "devnet", nonce, issuedAt, expirationTime: expiresAt }),
      );
      const ttl = await svc.redis.pttl(liveKey(nonce));
      expect(ttl).to.be.within(NONCE_TTL_MS - 5000, NONCE_TTL_MS);
    });

    for (const encoding of ["base58", "base64"] as const) {
      it(`signs in with a ${encoding} signature; the token passes the shared verifier and /auth/me`, async () => {
        const wallet = newWallet();
        const { message } = await requestNonce(svc.app, wallet);
        const body = await signIn(wallet, message, encoding);
        expect(body.tokenType).to.equal("Bearer");
        expect(body.expiresIn).to.equal(JWT_TTL_SECONDS);
        const claims = await verifyIdentityToken(body.accessToken, svc.config.JWT_KEYS);
        expect(claims).to.include({ sub: wallet.address, walletAddress: wallet.address, iss: "twist-auth", aud: "twist-api" });
        const me = await request(svc.app).get("/auth/me").set("Authorization", `Bearer ${body.accessToken}`);
        expect(me.status).to.equal(200);
        expect(me.body).to.deep.equal(claims);
      });
    }

    it("lets a wallet hold several outstanding nonces (two tabs) and use each once", async () => {
      const wallet = newWallet();
      const first = await requestNonce(svc.app, wallet);
      const second = await requestNonce(svc.app, wallet);
      expect(first.nonce).to.not.equal(second.nonce);
      await signIn(wallet, second.message);
      await signIn(wallet, first.message);
    });

    it("accepts a message whose Expiration Time the wallet shortened", async () => {
      const wallet = newWallet();
      const issued = await requestNonce(svc.app, wallet);
      const shorter = new Date(Date.parse(issued.issuedAt) + 60_000).toISOString();
      await signIn(wallet, alter(issued.message, { expirationTime: shorter }));
    });
  });

  describe("refusals: 401 with a specific code, and the nonce survives for its owner", () => {
    const cases: [string, string, (wallet: Wallet, issued: { message: string; nonce: string }) => unknown][] = [
      ["a signature by another key", "SIGNATURE_INVALID", (w, i) => verifyBody(w, i.message, "base58", newWallet())],
      ["a signature over another message", "SIGNATURE_INVALID", (w, i) => ({ ...verifyBody(w, i.message), signature: bs58.encode(w.sign(`${i.message} `)) })],
      ["a message for another domain", "DOMAIN_MISMATCH", (w, i) => verifyBody(w, alter(i.message, { domain: "evil.test" }))],
      ["a message for another URI", "URI_MISMATCH", (w, i) => verifyBody(w, alter(i.message, { uri: "https://evil.test" }))],
      ["a message for another chain", "CHAIN_MISMATCH", (w, i) => verifyBody(w, alter(i.message, { chainId: "mainnet" }))],
      ["a message of another version", "VERSION_MISMATCH", (w, i) => verifyBody(w, alter(i.message, { version: "2" }))],
      ["a message with another statement", "STATEMENT_MISMATCH", (w, i) => verifyBody(w, alter(i.message, { statement: "Send all your tokens." }))],
      [
        "a message naming another address",
        "ADDRESS_MISMATCH",
        (w, i) => {
          const other = newWallet();
          return { ...verifyBody(other, alter(i.message, { address: other.address })), walletAddress: w.address };
        },
      ],
      ["a message with another nonce", "NONCE_MISMATCH", (w, i) => verifyBody(w, alter(i.message, { nonce: "0".repeat(32) }))],
      ["a changed Issued At", "ISSUED_AT_MISMATCH", (w, i) => verifyBody(w, alter(i.message, { issuedAt: new Date(Date.now() + 1000).toISOString() }))],
      ["an Expiration Time beyond the nonce's", "EXPIRATION_MISMATCH", (w, i) => verifyBody(w, alter(i.message, { expirationTime: new Date(Date.now() + 3_600_000).toISOString() }))],
    ];
    for (const [name, code, make] of cases) {
      it(`${name}: ${code}`, async () => {
        const wallet = newWallet();
        const issued = await requestNonce(svc.app, wallet);
        await expect401(make(wallet, issued), code);
        await signIn(wallet, issued.message);
      });
    }

    it("a nonce that was never issued, from a wallet that asked for none: NONCE_UNKNOWN", async () => {
      const wallet = newWallet();
      const message = buildSiwsMessage({
        domain: "app.twist.test",
        address: wallet.address,
        uri: "https://app.twist.test",
        chainId: "devnet",
        nonce: "feedfacefeedfacefeedfacefeedface",
        issuedAt: new Date(svc.clock.now).toISOString(),
        expirationTime: new Date(svc.clock.now + 60_000).toISOString(),
      });
      await expect401(verifyBody(wallet, message), "NONCE_UNKNOWN");
    });

    it("a nonce issued to another address: NONCE_ADDRESS_MISMATCH, and its owner can still use it", async () => {
      const victim = newWallet();
      const attacker = newWallet();
      const issued = await requestNonce(svc.app, victim);
      await expect401(verifyBody(attacker, alter(issued.message, { address: attacker.address })), "NONCE_ADDRESS_MISMATCH");
      await signIn(victim, issued.message);
    });

    it("a replayed nonce: NONCE_REPLAYED", async () => {
      const wallet = newWallet();
      const { message } = await requestNonce(svc.app, wallet);
      const body = verifyBody(wallet, message);
      expect((await verify(body)).status).to.equal(200);
      await expect401(body, "NONCE_REPLAYED");
      await expect401(verifyBody(wallet, message, "base64"), "NONCE_REPLAYED");
    });

    it("an expired nonce (5 minutes on the clock): NONCE_EXPIRED", async () => {
      const wallet = newWallet();
      const { message } = await requestNonce(svc.app, wallet);
      svc.clock.now += NONCE_TTL_MS;
      await expect401(verifyBody(wallet, message), "NONCE_EXPIRED");
    });

    it("a nonce whose Redis TTL ran out: NONCE_EXPIRED, not unknown", async () => {
      const wallet = newWallet();
      const { message, nonce } = await requestNonce(svc.app, wallet);
      expect(await svc.redis.del(liveKey(nonce))).to.equal(1);
      await expect401(verifyBody(wallet, message), "NONCE_EXPIRED");
    });

    it("an expired message while its nonce is still live: MESSAGE_EXPIRED", async () => {
      const wallet = newWallet();
      const issued = await requestNonce(svc.app, wallet);
      const message = alter(issued.message, { expirationTime: new Date(Date.parse(issued.issuedAt) + 60_000).toISOString() });
      svc.clock.now += 61_000;
      await expect401(verifyBody(wallet, message), "MESSAGE_EXPIRED");
    });
  });

  describe("malformed input: 400 VALIDATION_ERROR, nothing written", () => {
    const wallet = newWallet();
    const valid = () => verifyBody(wallet, "irrelevant: never reaches the checks");
    const addressCases: [string, unknown][] = [
      ["not base58", `0OIl${wallet.address.slice(4)}`],
      ["too short to be 32 bytes", "3aXYFGhgJRdeorRrSjNwnCUWYRinzLPn"],
      ["too long", `${wallet.address}1111`],
      ["a number", 12345],
      ["empty", ""],
    ];
    for (const [name, walletAddress] of addressCases) {
      it(`nonce for an address that is ${name}`, async () => {
        const res = await request(svc.app).post("/auth/nonce").send({ walletAddress });
        expect(res.status).to.equal(400);
        expect(res.body.error.code).to.equal("VALIDATION_ERROR");
        expect(res.body.error.details).to.deep.equal([{ field: "walletAddress", message: res.body.error.details[0].message }]);
      });
      it(`verify for an address that is ${name}`, async () => {
        const res = await verify({ ...valid(), walletAddress });
        expect(res.status).to.equal(400);
        expect(res.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(["walletAddress"]);
      });
    }

    const signatureCases: [string, string][] = [
      ["base58 of 63 bytes", bs58.encode(new Uint8Array(63).fill(7))],
      ["base58 of 65 bytes", bs58.encode(new Uint8Array(65).fill(7))],
      ["base64 of 65 bytes", Buffer.alloc(65, 7).toString("base64")],
      ["hex", Buffer.alloc(64, 7).toString("hex")],
      ["neither encoding", "!".repeat(88)],
      ["empty", ""],
    ];
    for (const [name, signature] of signatureCases) {
      it(`a signature that is ${name}`, async () => {
        const res = await verify({ ...valid(), signature });
        expect(res.status).to.equal(400);
        expect(res.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(["signature"]);
      });
    }

    for (const field of ["walletAddress", "message", "signature"]) {
      it(`verify without ${field}`, async () => {
        const body: Record<string, unknown> = valid();
        delete body[field];
        const res = await verify(body);
        expect(res.status).to.equal(400);
        expect(res.body.error.details).to.deep.equal([{ field, message: "is required" }]);
      });
    }

    it("no body, an array body, bad JSON and unknown fields", async () => {
      const empty = await request(svc.app).post("/auth/nonce");
      expect(empty.status).to.equal(400);
      const array = await verify([valid()]);
      expect(array.status).to.equal(400);
      const badJson = await request(svc.app).post("/auth/verify").set("Content-Type", "application/json").send('{"walletAddress":');
      expect(badJson.status).to.equal(400);
      expect(badJson.body.error.details).to.deep.equal({ reason: "BAD_JSON" });
      const extra = await request(svc.app).post("/auth/nonce").send({ walletAddress: wallet.address, userId: "admin" });
      expect(extra.status).to.equal(400);
      expect(extra.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(["userId"]);
    });

    it("an oversized body", async () => {
      const res = await verify({ ...valid(), message: "x".repeat(20_000) });
      expect(res.status).to.equal(400);
      expect(res.body.error.details).to.deep.equal({ reason: "BODY_TOO_LARGE" });
    });

    it("a message that is not a sign-in message", async () => {
      const issued = await requestNonce(svc.app, wallet);
      for (const message of ["hello", issued.message.replace(/\n/g, "\r\n"), `${issued.message}\nResources: x`]) {
        const res = await verify(verifyBody(wallet, message));
        expect(res.status).to.equal(400);
        expect(res.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(["message"]);
      }
      await signIn(wallet, issued.message);
    });

    it("writes no nonce for a refused request", async () => {
      const before = await svc.redis.keys(`${svc.prefix}nonce:*`);
      await request(svc.app).post("/auth/nonce").send({ walletAddress: "not-an-address" });
      await request(svc.app).post("/auth/nonce").send({ walletAddress: wallet.address, extra: 1 });
      expect(await svc.redis.keys(`${svc.prefix}nonce:*`)).to.have.length(before.length);
    });
  });

  describe("concurrency", () => {
    it("20 parallel verifies of one signed message yield exactly one token", async () => {
      const running = await listen(svc.app, 0, "127.0.0.1");
      try {
        const wallet = newWallet();
        const { message } = await requestNonce(svc.app, wallet);
        const body = JSON.stringify(verifyBody(wallet, message));
        const responses = await Promise.all(
          Array.from({ length: 20 }, () =>
            fetch(`http://127.0.0.1:${running.port}/auth/verify`, { method: "POST", headers: { "Content-Type": "application/json" }, body }).then(async (r) => ({
              status: r.status,
              body: (await r.json()) as { accessToken?: string; error?: { code: string } },
            })),
          ),
        );
        const ok = responses.filter((r) => r.status === 200);
        expect(ok).to.have.length(1);
        expect(ok[0]!.body.accessToken).to.be.a("string");
        const refused = responses.filter((r) => r.status !== 200);
        expect(refused.map((r) => `${r.status} ${r.body.error?.code}`)).to.deep.equal(Array(19).fill("401 NONCE_REPLAYED"));
      } finally {
        await running.close();
      }
    });
  });

  describe("GET /auth/me", () => {
    const me = (authorization?: string) => {
      const req = request(svc.app).get("/auth/me");
      return authorization === undefined ? req : req.set("Authorization", authorization);
    };
    async function expectReason(authorization: string | undefined, reason: string) {
      const res = await me(authorization);
      expect(res.status).to.equal(401);
      expect(res.body.error).to.include({ code: "UNAUTHORIZED" });
      expect(res.body.error.details).to.deep.equal({ reason });
      expect(res.headers["www-authenticate"]).to.match(/^Bearer /);
    }
    async function tokenFor(wallet: Wallet) {
      const { message } = await requestNonce(svc.app, wallet);
      return (await signIn(wallet, message)).accessToken;
    }

    it("refuses a missing, non-Bearer or garbled token", async () => {
      await expectReason(undefined, "TOKEN_MISSING");
      await expectReason("Basic dXNlcjpwYXNz", "TOKEN_MALFORMED");
      await expectReason("Bearer abc.def", "TOKEN_MALFORMED");
    });

    describe("Authorization header vectors", () => {
      for (const c of authorizationHeaderCases()) {
        it(`${c.name}: ${c.accepted ? "200" : "401"}`, async () => {
          const wallet = newWallet();
          const res = await me(c.header(await tokenFor(wallet)) ?? undefined);
          if (c.accepted) {
            expect(res.status, JSON.stringify(res.body)).to.equal(200);
            expect(res.body.sub).to.equal(wallet.address);
          } else {
            expect(res.status).to.equal(401);
            expect(res.body.error.code).to.equal("UNAUTHORIZED");
            expect(res.headers["www-authenticate"]).to.match(/^Bearer realm="twist"/);
          }
        });
      }
    });

    it("refuses alg=none, an unknown kid and a token signed with another secret", async () => {
      const wallet = newWallet();
      const claims = { iss: "twist-auth", aud: "twist-api", sub: wallet.address, walletAddress: wallet.address, iat: 1, exp: 4_000_000_000, jti: "x" };
      const foreign = parseJwtKeySet("k2:someone-elses-secret-value-01");
      await expectReason(`Bearer ${await signJwt(claims, svc.config.JWT_KEYS, { alg: "none" })}`, "TOKEN_ALGORITHM");
      await expectReason(`Bearer ${await signJwt(claims, parseJwtKeySet("k9:auth-test-current-secret-000001"))}`, "TOKEN_KID");
      await expectReason(`Bearer ${await signJwt(claims, foreign)}`, "TOKEN_SIGNATURE");
    });

    it("refuses a token once it has expired, and accepts one signed with the previous key", async () => {
      const wallet = newWallet();
      const token = await tokenFor(wallet);
      svc.clock.now += (JWT_TTL_SECONDS + 31) * 1000;
      await expectReason(`Bearer ${token}`, "TOKEN_EXPIRED");
      const previous = parseJwtKeySet("k1:auth-test-previous-secret-00001");
      const old = await signJwt(
        {
          iss: "twist-auth",
          aud: "twist-api",
          sub: wallet.address,
          walletAddress: wallet.address,
          iat: Math.floor(svc.clock.now / 1000),
          exp: Math.floor(svc.clock.now / 1000) + 60,
          jti: "y",
        },
        previous,
      );
      const res = await me(`Bearer ${old}`);
      expect(res.status).to.equal(200);
      expect(res.body.sub).to.equal(wallet.address);
    });
  });
});
