// POST /api/v1/vau and /batch against the real bundle in workerd (Miniflare): the happy path through
// the queue to a backend, authentication and signature failures, field validation, routing, CORS,
// dedupe under concurrency, rate limits, the hourly aggregator and the audit log in R2.
import { expect } from "chai";
import { createHash } from "node:crypto";
import { signJwt } from "@twist/shared/jwt";
import { parseJwtKeySet } from "@twist/shared/keys";
import { validateRewardMessage } from "@twist/shared/messages";
import { signedHeaders } from "@twist/shared/signed-request";
import { startEdge, type RunningEdge } from "../local/miniflare";
import { AGGREGATOR_NAME, HISTORY_RETENTION_MS } from "../src/retention";
import { BackendDouble, errorOf, JWT_KEY_SET, newWallet, send, TEST_SECRETS, tokenFor, VAU_KEY, vauBody, waitFor } from "./support";

const WALLET_LIMIT = 100;
const DEVICE_LIMIT = 60;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const MAX_AGE_HOURS = 4;

describe("edge ingest (workerd)", () => {
  let edge: RunningEdge;
  const backend = new BackendDouble();

  before(async () => {
    await backend.start();
    edge = await startEdge({
      vars: {
        ...TEST_SECRETS,
        ENVIRONMENT: "staging",
        BACKEND_URL: backend.url,
        RATE_LIMIT_WALLET_PER_MINUTE: String(WALLET_LIMIT),
        RATE_LIMIT_DEVICE_PER_MINUTE: String(DEVICE_LIMIT),
        VAU_MAX_AGE_SECONDS: String(MAX_AGE_HOURS * 3600),
        MAX_EARNED_PER_VAU: "5000000",
        BATCH_FLUSH_MS: "200",
      },
      consumerOverrides: { rewards: { maxBatchTimeoutSeconds: 0 } },
    });
  });
  after(async () => {
    await edge?.stop();
    await backend.stop();
  });

  /** Sends a marker VAU and waits until the backend has it: everything queued before it was delivered. */
  async function drainQueue(): Promise<void> {
    const res = await send(edge, vauBody({ siteId: "drain.example" }));
    const { vauId } = (await res.json()) as { vauId: string };
    await waitFor("the drain marker at the backend", () => (backend.timesDelivered(vauId) > 0 ? true : undefined));
  }

  describe("happy path", () => {
    it("returns {vauId, earned, trustScore, timestamp} and delivers a contract-4 message, signed, to the backend", async () => {
      const wallet = newWallet();
      const body = vauBody();
      const res = await send(edge, body, { token: await tokenFor(wallet) });
      expect(res.status).to.equal(200);
      expect(res.headers.get("x-request-id")).to.match(/^[A-Za-z0-9._-]{1,64}$/);
      const out = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(out).sort()).to.deep.equal(["earned", "timestamp", "trustScore", "vauId"]);
      const expectedId = createHash("sha256").update(`${wallet}\n${body.deviceId}\n${body.siteId}\n${body.timestamp}`).digest("hex");
      expect(out.vauId).to.equal(expectedId);
      expect(out.timestamp).to.equal(body.timestamp);
      expect(out.trustScore).to.equal(0.1); // a device without history
      expect(out.earned).to.equal("1666666"); // 60 s at trust 0.1: 60000 * 100 * 1e9 / 3.6e9

      const delivered = await waitFor("the reward message at the backend", () =>
        backend.deliveries.flatMap((d) => d.messages.map((m) => ({ m, d }))).find(({ m }) => m.id === expectedId),
      );
      expect(delivered.d.signatureOk).to.equal(true);
      expect(validateRewardMessage(delivered.m).ok).to.equal(true);
      expect(delivered.m).to.include({ v: 1, type: "vau.reward", walletAddress: wallet, deviceId: body.deviceId, siteId: body.siteId, earned: "1666666", trustScore: 0.1 });
      expect(delivered.m.occurredAt).to.equal(new Date(body.timestamp as number).toISOString());
    });

    it("scores a returning device higher than a new one, from the history its wallet's gate keeps", async () => {
      const wallet = newWallet();
      const token = await tokenFor(wallet);
      const deviceId = vauBody().deviceId;
      expect((await send(edge, vauBody({ deviceId }), { token })).status).to.equal(200);
      // Strongly consistent: the very next VAU of the device reads the history the first one wrote.
      const res = await send(edge, vauBody({ deviceId, siteId: "other.example" }), { token });
      const out = (await res.json()) as { trustScore: number };
      expect(res.status).to.equal(200);
      expect(out.trustScore).to.be.greaterThan(0.1);
    });

    it("does not lend a device's history to another wallet that sends the same deviceId", async () => {
      const owner = newWallet();
      const deviceId = vauBody().deviceId as string;
      for (let n = 0; n < 3; n++) expect((await send(edge, vauBody({ deviceId, siteId: `owner-${n}.example` }), { token: await tokenFor(owner) })).status).to.equal(200);
      const res = await send(edge, vauBody({ deviceId }), { token: await tokenFor(newWallet()) });
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { trustScore: number }).trustScore).to.equal(0.1);
    });

    it("imports a history written to KV by the previous version once, and ignores one older than the retention", async () => {
      const wallet = newWallet();
      const token = await tokenFor(wallet);
      const kv = await edge.mf.getKVNamespace("DEVICES");
      const now = Date.now();
      const legacy = (lastSeen: number) => JSON.stringify({ firstSeen: lastSeen - 10 * DAY_MS, lastSeen, total: 500, windowStart: lastSeen, windowCount: 1 });
      const [live, stale] = [vauBody().deviceId as string, vauBody().deviceId as string];
      await kv.put(`device:${wallet}:${live}`, legacy(now - DAY_MS));
      await kv.put(`device:${wallet}:${stale}`, legacy(now - HISTORY_RETENTION_MS - DAY_MS));
      const first = (await (await send(edge, vauBody({ deviceId: live }), { token })).json()) as { trustScore: number };
      expect(first.trustScore).to.be.greaterThan(0.8); // ten days old, 500 VAUs: the imported history
      // The gate owns the history now: KV changing afterwards changes nothing.
      await kv.delete(`device:${wallet}:${live}`);
      const second = (await (await send(edge, vauBody({ deviceId: live, siteId: "again.example" }), { token })).json()) as { trustScore: number };
      expect(second.trustScore).to.be.at.least(first.trustScore);
      const old = (await (await send(edge, vauBody({ deviceId: stale }), { token })).json()) as { trustScore: number };
      expect(old.trustScore).to.equal(0.1);
    });

    it('answers earned "0" and queues nothing when activeMs is 0', async () => {
      const res = await send(edge, vauBody({ activeMs: 0 }));
      const out = (await res.json()) as { vauId: string; earned: string };
      expect(res.status).to.equal(200);
      expect(out.earned).to.equal("0");
      await drainQueue();
      expect(backend.timesDelivered(out.vauId)).to.equal(0);
    });

    it("honours a valid X-Request-Id and replaces an invalid one", async () => {
      const good = await send(edge, vauBody(), { headers: { "x-request-id": "client-req.1" } });
      expect(good.headers.get("x-request-id")).to.equal("client-req.1");
      const bad = await send(edge, vauBody(), { token: null, headers: { "x-request-id": "bad id!" } });
      const err = await errorOf(bad);
      expect(bad.headers.get("x-request-id")).to.not.equal("bad id!");
      expect(err.requestId).to.equal(bad.headers.get("x-request-id"));
    });
  });

  describe("401 UNAUTHORIZED", () => {
    /** A VAU sent with a token whose claims (or key) differ from a valid one's. */
    const hostile = async (claims: Record<string, unknown>, keySet = JWT_KEY_SET) => {
      const wallet = newWallet();
      const now = Math.floor(Date.now() / 1000);
      const token = await signJwt({ iss: "twist-auth", aud: "twist-api", sub: wallet, walletAddress: wallet, iat: now, exp: now + 600, jti: "x", ...claims }, keySet);
      return send(edge, vauBody(), { token });
    };
    const cases: [string, () => Promise<Response>, string][] = [
      ["no token", () => send(edge, vauBody(), { token: null }), "TOKEN_MISSING"],
      ["a malformed token", () => send(edge, vauBody(), { token: "not-a-jwt" }), "TOKEN_MALFORMED"],
      ["a token signed with another secret under the same kid", () => hostile({}, parseJwtKeySet(`${JWT_KEY_SET.currentKid}:a-different-secret-0123456789`)), "TOKEN_SIGNATURE"],
      ["a wrong audience", () => hostile({ aud: "someone-else" }), "TOKEN_AUDIENCE"],
      ["an expired token", () => hostile({ iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 2700 }), "TOKEN_EXPIRED"],
      ["a missing signature", () => send(edge, vauBody(), { key: null }), "SIGNATURE_MISSING"],
      ["a missing timestamp", () => send(edge, vauBody(), { key: null, headers: { "x-signature": `v1=${"a".repeat(64)}` } }), "TIMESTAMP_MISSING"],
      ["a signature with the wrong key", () => send(edge, vauBody(), { key: "another-key-0123456789abcdef" }), "SIGNATURE_MISMATCH"],
      ["a malformed signature", () => send(edge, vauBody(), { headers: { "x-signature": "sha256=abc" } }), "SIGNATURE_MALFORMED"],
      ["a stale signature", () => send(edge, vauBody(), { signedAt: Date.now() - 6 * 60_000 }), "TIMESTAMP_SKEW"],
      ["a signature from the future", () => send(edge, vauBody(), { signedAt: Date.now() + 6 * 60_000 }), "TIMESTAMP_SKEW"],
      [
        "a body changed after signing",
        () => {
          const body = vauBody();
          return send(edge, { ...body, activeMs: 3_600_000 }, { signedBody: JSON.stringify(body) });
        },
        "SIGNATURE_MISMATCH",
      ],
      ["a signature for another request target", () => send(edge, vauBody(), { path: "/api/v1/vau?x=1", signedPath: "/api/v1/vau" }), "SIGNATURE_MISMATCH"],
    ];
    for (const [name, run, reason] of cases) {
      it(`refuses ${name} (${reason})`, async () => {
        const res = await run();
        expect(res.status).to.equal(401);
        const err = await errorOf(res);
        expect(err.code).to.equal("UNAUTHORIZED");
        expect(err.details?.reason).to.equal(reason);
        expect(err.requestId).to.equal(res.headers.get("x-request-id"));
      });
    }
  });

  describe("400 VALIDATION_ERROR", () => {
    // Timestamps relative to now are computed when the case runs: the whole suite may take minutes.
    const fieldCases: [string, Record<string, unknown> | (() => Record<string, unknown>), string][] = [
      ["deviceId missing", { deviceId: undefined }, "deviceId"],
      ["deviceId not a string", { deviceId: 42 }, "deviceId"],
      ["deviceId with a space", { deviceId: "a b" }, "deviceId"],
      ["deviceId too long", { deviceId: "d".repeat(129) }, "deviceId"],
      ["siteId missing", { siteId: undefined }, "siteId"],
      ["siteId empty", { siteId: "" }, "siteId"],
      ["timestamp missing", { timestamp: undefined }, "timestamp"],
      ["timestamp as a string", { timestamp: String(Date.now()) }, "timestamp"],
      ["timestamp fractional", { timestamp: Date.now() + 0.5 }, "timestamp"],
      ["timestamp older than VAU_MAX_AGE_SECONDS", () => ({ timestamp: Date.now() - MAX_AGE_HOURS * HOUR_MS - 60_000 }), "timestamp"],
      ["timestamp beyond the future skew", () => ({ timestamp: Date.now() + 5 * 60_000 }), "timestamp"],
      ["activeMs missing", { activeMs: undefined }, "activeMs"],
      ["activeMs negative", { activeMs: -1 }, "activeMs"],
      ["activeMs above one hour", { activeMs: 3_600_001 }, "activeMs"],
      ["activeMs fractional", { activeMs: 1.5 }, "activeMs"],
      ["payload not an object", { payload: [1, 2] }, "payload"],
      ["payload too large", { payload: { blob: "x".repeat(2100) } }, "payload"],
      ["a walletAddress in the body", { walletAddress: newWallet() }, "walletAddress"],
    ];
    for (const [name, overrides, field] of fieldCases) {
      it(`rejects ${name}`, async () => {
        const body = vauBody(typeof overrides === "function" ? overrides() : overrides);
        const res = await send(edge, body);
        expect(res.status).to.equal(400);
        const err = await errorOf(res);
        expect(err.code).to.equal("VALIDATION_ERROR");
        expect(err.details.map((d: { field: string }) => d.field)).to.include(field);
      });
    }

    it("rejects an oversized body before reading it all", async () => {
      const res = await send(edge, null, { raw: JSON.stringify(vauBody({ pad: "x".repeat(9000) })) });
      expect(res.status).to.equal(400);
      const err = await errorOf(res);
      expect(err.details.reason).to.equal("BODY_TOO_LARGE");
    });

    it("reads a chunked body (no Content-Length) as a stream, accepting it within the limit and refusing it past", async () => {
      const chunked = async (raw: string) => {
        const headers = { "content-type": "application/json", authorization: `Bearer ${await tokenFor(newWallet())}`, ...(await signedHeaders("POST", "/api/v1/vau", raw, VAU_KEY)) };
        const bytes = new TextEncoder().encode(raw);
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < bytes.length; i += 1024) controller.enqueue(bytes.slice(i, i + 1024));
            controller.close();
          },
        });
        return fetch(new URL("/api/v1/vau", edge.url), { method: "POST", headers, body, duplex: "half" } as RequestInit);
      };
      expect((await chunked(JSON.stringify(vauBody()))).status).to.equal(200);
      const over = await chunked(JSON.stringify(vauBody({ pad: "x".repeat(9000) })));
      expect(over.status).to.equal(400);
      expect((await errorOf(over)).details.reason).to.equal("BODY_TOO_LARGE");
    });

    it("rejects bad JSON and a non-object body", async () => {
      const bad = await send(edge, null, { raw: "{not json" });
      expect(bad.status).to.equal(400);
      expect((await errorOf(bad)).details.reason).to.equal("BAD_JSON");
      const array = await send(edge, [vauBody()]);
      expect(array.status).to.equal(400);
      expect((await errorOf(array)).code).to.equal("VALIDATION_ERROR");
    });
  });

  describe("routing and CORS", () => {
    it("answers 405 with Allow for another method on a known route", async () => {
      const res = await fetch(new URL("/api/v1/vau", edge.url), { method: "GET" });
      expect(res.status).to.equal(405);
      expect(res.headers.get("allow")).to.equal("POST, OPTIONS");
      expect((await errorOf(res)).code).to.equal("METHOD_NOT_ALLOWED");
    });

    it("answers 404 NOT_FOUND for an unknown route", async () => {
      const res = await fetch(new URL("/api/v1/nothing", edge.url), { method: "POST" });
      expect(res.status).to.equal(404);
      const err = await errorOf(res);
      expect(err.code).to.equal("NOT_FOUND");
      expect(err.requestId).to.be.a("string");
    });

    it("allows the headers clients must send in a preflight and exposes the rate-limit headers", async () => {
      const res = await fetch(new URL("/api/v1/vau", edge.url), {
        method: "OPTIONS",
        headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization,x-signature,x-timestamp" },
      });
      expect(res.status).to.equal(204);
      const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
      for (const h of ["authorization", "content-type", "x-signature", "x-timestamp", "x-request-id"]) expect(allowed).to.include(h);
      expect(res.headers.get("access-control-allow-methods")).to.include("POST");
      const post = await send(edge, vauBody(), { headers: { origin: "https://app.example" } });
      expect(post.headers.get("access-control-allow-origin")).to.equal("*");
      expect(post.headers.get("access-control-expose-headers")).to.include("X-RateLimit-Remaining");
    });

    it("reports health, readiness and metrics", async () => {
      const health = await fetch(new URL("/health", edge.url));
      expect(health.status).to.equal(200);
      expect(((await health.json()) as { bindings: string[] }).bindings).to.include.members(["DEVICES", "AUDIT", "REWARDS", "WALLETS", "AGGREGATOR", "ANALYTICS"]);
      const ready = await fetch(new URL("/ready", edge.url));
      expect(ready.status).to.equal(200);
      expect(((await ready.json()) as { probed: string[] }).probed).to.deep.equal(["DEVICES", "AUDIT", "WALLETS", "AGGREGATOR"]);
      const metrics = await fetch(new URL("/metrics", edge.url));
      expect(metrics.headers.get("content-type")).to.include("text/plain");
      expect(await metrics.text()).to.match(/twist_edge_requests_total\{route="\/api\/v1\/vau",status="200"\} \d+/);
    });
  });

  describe("batch", () => {
    it("answers one result per item, in order: accepted, invalid, duplicate", async () => {
      const token = await tokenFor(newWallet());
      const a = vauBody();
      const res = await send(edge, { vaus: [a, vauBody({ activeMs: -5 }), a, vauBody()] }, { path: "/api/v1/vau/batch", token });
      expect(res.status).to.equal(200);
      const { results } = (await res.json()) as { results: { index: number; status: number; vauId?: string; earned?: string; error?: { code: string } }[] };
      expect(results.map((r) => r.index)).to.deep.equal([0, 1, 2, 3]);
      expect(results.map((r) => r.status)).to.deep.equal([200, 400, 409, 200]);
      expect(results[1]!.error!.code).to.equal("VALIDATION_ERROR");
      expect(results[2]!.error!.code).to.equal("DUPLICATE_VAU");
      expect(results[2]!.vauId).to.equal(results[0]!.vauId);
      await waitFor("both accepted items at the backend", () => (backend.timesDelivered(results[0]!.vauId!) && backend.timesDelivered(results[3]!.vauId!) ? true : undefined));
    });

    it("refuses more than 100 items, none, and a body that is not {vaus}", async () => {
      for (const body of [{ vaus: Array.from({ length: 101 }, () => vauBody()) }, { vaus: [] }, { items: [vauBody()] }]) {
        const res = await send(edge, body, { path: "/api/v1/vau/batch" });
        expect(res.status).to.equal(400);
        expect((await errorOf(res)).code).to.equal("VALIDATION_ERROR");
      }
    });
  });

  describe("dedupe", () => {
    it("accepts the same VAU sent 50 times concurrently exactly once and queues one message", async () => {
      const token = await tokenFor(newWallet());
      const body = vauBody();
      const responses = await Promise.all(Array.from({ length: 50 }, () => send(edge, body, { token })));
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).to.have.length(1);
      expect(statuses.filter((s) => s === 409)).to.have.length(49);
      const winner = (await responses[statuses.indexOf(200)]!.json()) as { vauId: string };
      for (const r of responses.filter((r) => r.status === 409)) expect((await errorOf(r)).code).to.equal("DUPLICATE_VAU");
      await drainQueue();
      expect(backend.timesDelivered(winner.vauId)).to.equal(1);
    });
  });

  describe("rate limits", () => {
    it("answers the limit+1-th request of a device with 429, Retry-After and X-RateLimit-*, and leaves another device alone", async () => {
      const token = await tokenFor(newWallet());
      const deviceId = vauBody().deviceId;
      const start = Date.now() - 1000;
      const within = await Promise.all(Array.from({ length: DEVICE_LIMIT }, (_, i) => send(edge, vauBody({ deviceId, timestamp: start - i }), { token })));
      expect(within.map((r) => r.status)).to.deep.equal(within.map(() => 200));
      const over = await send(edge, vauBody({ deviceId }), { token });
      expect(over.status).to.equal(429);
      expect((await errorOf(over)).code).to.equal("RATE_LIMITED");
      expect(Number(over.headers.get("retry-after"))).to.be.at.least(1);
      expect(over.headers.get("x-ratelimit-limit")).to.equal(String(DEVICE_LIMIT));
      expect(over.headers.get("x-ratelimit-remaining")).to.equal("0");
      expect(Number(over.headers.get("x-ratelimit-reset"))).to.be.greaterThan(Date.now() / 1000);
      const other = await send(edge, vauBody(), { token });
      expect(other.status).to.equal(200);
    });

    it("grants a batch as far as the device's window goes: one result per item, 429 for the rest, with Retry-After", async () => {
      const token = await tokenFor(newWallet());
      const deviceId = vauBody().deviceId;
      const start = Date.now() - 1000;
      const vaus = Array.from({ length: DEVICE_LIMIT + 5 }, (_, i) => vauBody({ deviceId, timestamp: start - i }));
      const res = await send(edge, { vaus }, { path: "/api/v1/vau/batch", token });
      expect(res.status).to.equal(200);
      const { results } = (await res.json()) as { results: { status: number; error?: { code: string } }[] };
      expect(results.map((r) => r.status)).to.deep.equal([...Array(DEVICE_LIMIT).fill(200), ...Array(5).fill(429)]);
      expect(results.slice(DEVICE_LIMIT).every((r) => r.error?.code === "RATE_LIMITED")).to.equal(true);
      expect(Number(res.headers.get("retry-after"))).to.be.within(1, 60);
      expect(res.headers.get("x-ratelimit-remaining")).to.equal("0");
      // The refused items took nothing: another device of the wallet is accepted, and the wallet's
      // window (now the tightest) holds the accepted items and this one only.
      const other = await send(edge, vauBody(), { token });
      expect(other.status).to.equal(200);
      expect(other.headers.get("x-ratelimit-limit")).to.equal(String(WALLET_LIMIT));
      expect(other.headers.get("x-ratelimit-remaining")).to.equal(String(WALLET_LIMIT - DEVICE_LIMIT - 1));
    });

    it("limits a wallet across its devices", async () => {
      const token = await tokenFor(newWallet());
      const within = await Promise.all(Array.from({ length: WALLET_LIMIT }, () => send(edge, vauBody(), { token })));
      expect(within.filter((r) => r.status === 200)).to.have.length(WALLET_LIMIT);
      const over = await send(edge, vauBody(), { token });
      expect(over.status).to.equal(429);
      expect(over.headers.get("x-ratelimit-limit")).to.equal(String(WALLET_LIMIT));
      const otherWallet = await send(edge, vauBody());
      expect(otherWallet.status).to.equal(200);
    });
  });

  describe("hourly aggregator", () => {
    it("puts events either side of an hour boundary in their own UTC hours", async () => {
      // Two hours back: no other test's events (all stamped about now) can land in either hour.
      const boundary = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS;
      const hours = async () => {
        const ns = await edge.mf.getDurableObjectNamespace("AGGREGATOR");
        // RPC on the stub, as the Worker calls it (HourlyAggregator.hours).
        const stub = ns.get(ns.idFromName(AGGREGATOR_NAME)) as unknown as { hours(): Promise<{ hour: string; vaus: number; earned: string }[]> };
        const hours = await stub.hours();
        return new Map(hours.map((h) => [h.hour, h]));
      };
      const before = await hours();
      const earlier = new Date(boundary - HOUR_MS).toISOString();
      const later = new Date(boundary).toISOString();
      const token = await tokenFor(newWallet());
      const r1 = await send(edge, vauBody({ timestamp: boundary - 1 }), { token });
      const r2 = await send(edge, vauBody({ timestamp: boundary }), { token });
      expect([r1.status, r2.status]).to.deep.equal([200, 200]);
      const e1 = ((await r1.json()) as { earned: string }).earned;
      const e2 = ((await r2.json()) as { earned: string }).earned;
      const after = await waitFor("both hours updated", async () => {
        const now = await hours();
        return (now.get(earlier)?.vaus ?? 0) > (before.get(earlier)?.vaus ?? 0) && (now.get(later)?.vaus ?? 0) > (before.get(later)?.vaus ?? 0) ? now : undefined;
      });
      expect(after.get(earlier)!.vaus - (before.get(earlier)?.vaus ?? 0)).to.equal(1);
      expect(after.get(later)!.vaus - (before.get(later)?.vaus ?? 0)).to.equal(1);
      expect(BigInt(after.get(earlier)!.earned) - BigInt(before.get(earlier)?.earned ?? "0")).to.equal(BigInt(e1));
      expect(BigInt(after.get(later)!.earned) - BigInt(before.get(later)?.earned ?? "0")).to.equal(BigInt(e2));
    });
  });

  describe("audit log", () => {
    it("writes batched entries to R2 with no token, signature, cookie or body in any object", async () => {
      const token = await tokenFor(newWallet());
      const marker = `secret-body-marker-${Date.now()}`;
      const cookie = `session=cookie-secret-${Date.now()}`;
      const requestIds = ["audit-1", "audit-2", "audit-3"];
      const signatures: string[] = [];
      const responses = await Promise.all(requestIds.map((id) => send(edge, vauBody({ payload: { marker } }), { token, capture: signatures, headers: { "x-request-id": id, cookie } })));
      expect(responses.map((r) => r.status)).to.deep.equal([200, 200, 200]);
      // One failing request too: its signature header must not reach R2 either.
      const badSig = `v1=${"ab".repeat(32)}`;
      signatures.push(badSig);
      await send(edge, vauBody({ payload: { marker } }), { token, headers: { "x-request-id": "audit-4", "x-signature": badSig, cookie } });

      const bucket = await edge.mf.getR2Bucket("AUDIT");
      const readAll = async () => {
        const texts: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await bucket.list({ prefix: "audit/", ...(cursor ? { cursor } : {}) });
          for (const o of page.objects) texts.push(await (await bucket.get(o.key))!.text());
          cursor = page.truncated ? page.cursor : undefined;
        } while (cursor);
        return texts;
      };
      const texts = await waitFor("audit entries of the four requests", async () => {
        const all = await readAll();
        const joined = all.join("");
        return [...requestIds, "audit-4"].every((id) => joined.includes(`"requestId":"${id}"`)) ? all : undefined;
      });
      const entries = texts.flatMap((t) =>
        t
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { requestId: string; headers: Record<string, string>; status: number }),
      );
      expect(entries.find((e) => e.requestId === "audit-4")!.status).to.equal(401);
      expect(
        texts.some((t) => t.trim().split("\n").length > 1),
        "some object holds more than one entry",
      ).to.equal(true);
      for (const text of texts) {
        expect(text).to.not.include(token);
        expect(text).to.not.include(token.split(".")[2]!);
        expect(text).to.not.include(marker);
        expect(text).to.not.include("cookie-secret");
        for (const sig of signatures) expect(text).to.not.include(sig.slice(3));
        expect(text.toLowerCase()).to.not.match(/"(authorization|cookie|x-signature)"/);
      }
      for (const e of entries) expect(Object.keys(e.headers).every((h) => !["authorization", "cookie", "x-signature", "x-timestamp"].includes(h))).to.equal(true);
    });
  });
});
