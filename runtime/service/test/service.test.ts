import { expect } from "chai";
import request from "supertest";
import Joi from "joi";
import { Writable } from "node:stream";
import { createLogger } from "@twist/shared/logger";
import { signedHeaders } from "@twist/shared/signed-request";
import { ApiError } from "@twist/shared/errors";
import { clientIp, createRedis, createServiceApp, enforceRateLimit, metricsAppOf, rateLimit, redisOp, requireSignedRequest, validate } from "@twist/service";
import { DEAD_REDIS_URL, TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../../../test/support/redis";

const KEY = "service-kit-test-key-0001";
const silent = createLogger("test", { destination: new Writable({ write: (_c, _e, done) => done() }) });

describe("service kit", () => {
  const prefix = testRedisPrefix("service");
  const redis = createRedis(TEST_REDIS_URL, prefix);
  const dead = createRedis(DEAD_REDIS_URL, prefix);
  after(async () => {
    redis.disconnect();
    dead.disconnect();
    await deleteRedisPrefix(prefix);
  });

  const { app } = createServiceApp({
    service: "kit",
    logger: silent,
    readiness: { redis: () => redis.ping() },
    bodyLimitBytes: 1024,
    routes: (a) => {
      a.post("/echo", (req, res) => {
        const body = validate(Joi.object({ name: Joi.string().max(10).required(), n: Joi.number().integer().min(0) }), req.body);
        res.json(body);
      });
      a.post("/signed", requireSignedRequest([KEY]), (_req, res) => {
        res.json({ ok: true });
      });
      a.get(
        "/limited",
        rateLimit(redis, { name: "kit", limit: 2, windowSeconds: 60 }, (req) => clientIp(req, "x-real-client")),
        (_req, res) => {
          res.json({ ok: true });
        },
      );
      a.get("/two-limits", async (_req, res) => {
        await enforceRateLimit(redis, { name: "wide", limit: 100, windowSeconds: 60 }, "s", res);
        await enforceRateLimit(redis, { name: "narrow", limit: 3, windowSeconds: 60 }, "s", res);
        await enforceRateLimit(redis, { name: "wider", limit: 1000, windowSeconds: 60 }, "s", res);
        res.json({ ok: true });
      });
      a.get("/boom", () => {
        throw new Error("database password hunter2 leaked in message");
      });
      a.get("/conflict", () => {
        throw new ApiError("CONFLICT", "already there");
      });
      a.get("/down", async (_req, res) => {
        await redisOp(() => dead.get("x"));
        res.json({});
      });
    },
  });

  it("echoes a well-formed request id and generates one otherwise", async () => {
    const given = await request(app).get("/health").set("X-Request-Id", "abc-123");
    expect(given.status).to.equal(200);
    expect(given.headers["x-request-id"]).to.equal("abc-123");
    const generated = await request(app).get("/health").set("X-Request-Id", "bad id with spaces");
    expect(generated.headers["x-request-id"]).to.match(/^[0-9a-f-]{36}$/);
  });

  it("answers unknown routes with the 404 envelope", async () => {
    const res = await request(app).get("/nope").set("X-Request-Id", "r-404");
    expect(res.status).to.equal(404);
    expect(res.body).to.deep.equal({ error: { code: "NOT_FOUND", message: "no route for GET /nope", requestId: "r-404" } });
  });

  it("turns bad JSON and oversized bodies into 400s with a reason", async () => {
    const bad = await request(app).post("/echo").set("Content-Type", "application/json").send("{nope");
    expect(bad.status).to.equal(400);
    expect(bad.body.error).to.include({ code: "VALIDATION_ERROR" });
    expect(bad.body.error.details).to.deep.equal({ reason: "BAD_JSON" });
    const big = await request(app)
      .post("/echo")
      .send({ name: "x".repeat(2000) });
    expect(big.status).to.equal(400);
    expect(big.body.error.details).to.deep.equal({ reason: "BODY_TOO_LARGE" });
  });

  it("lists every invalid field", async () => {
    const res = await request(app).post("/echo").send({ name: "waytoolongname", n: -1 });
    expect(res.status).to.equal(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).to.deep.equal(["n", "name"]);
  });

  it("hides unexpected errors behind a bare 500 envelope", async () => {
    const res = await request(app).get("/boom");
    expect(res.status).to.equal(500);
    expect(JSON.stringify(res.body)).not.to.include("hunter2");
    expect(res.body.error.code).to.equal("INTERNAL");
  });

  it("maps a specific ApiError to its status", async () => {
    const res = await request(app).get("/conflict");
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal("CONFLICT");
  });

  it("accepts a correctly signed request and refuses a tampered one", async () => {
    const body = JSON.stringify({ a: 1 });
    const headers = await signedHeaders("POST", "/signed?x=1", body, KEY);
    const ok = await request(app).post("/signed?x=1").set(headers).set("Content-Type", "application/json").send(body);
    expect(ok.status).to.equal(200);
    const tampered = await request(app)
      .post("/signed?x=1")
      .set(headers)
      .set("Content-Type", "application/json")
      .send(JSON.stringify({ a: 2 }));
    expect(tampered.status).to.equal(401);
    expect(tampered.body.error.details).to.deep.equal({ reason: "SIGNATURE_MISMATCH" });
    const unsigned = await request(app).post("/signed?x=1").send(body);
    expect(unsigned.body.error.details).to.deep.equal({ reason: "SIGNATURE_MISSING" });
  });

  it("rate-limits per trusted client IP with Retry-After and X-RateLimit headers", async () => {
    const hit = () => request(app).get("/limited").set("X-Real-Client", "203.0.113.7");
    expect((await hit()).status).to.equal(200);
    const second = await hit();
    expect(second.status).to.equal(200);
    expect(second.headers["x-ratelimit-remaining"]).to.equal("0");
    const third = await hit();
    expect(third.status).to.equal(429);
    expect(third.body.error.code).to.equal("RATE_LIMITED");
    expect(Number(third.headers["retry-after"])).to.be.within(1, 60);
    const otherClient = await request(app).get("/limited").set("X-Real-Client", "203.0.113.8");
    expect(otherClient.status).to.equal(200);
  });

  it("shows the tightest of several limits in the X-RateLimit headers", async () => {
    const res = await request(app).get("/two-limits");
    expect(res.status).to.equal(200);
    expect(res.headers["x-ratelimit-limit"]).to.equal("3");
    expect(res.headers["x-ratelimit-remaining"]).to.equal("2");
  });

  it("trusts only the configured proxy header for the client IP", async () => {
    // Any Node request (an Express one, or a WebSocket upgrade's): headers are read lower-cased.
    const fake = { headers: { "x-forwarded-for": "1.2.3.4" }, socket: { remoteAddress: "10.0.0.9" } };
    expect(clientIp(fake as never, undefined)).to.equal("10.0.0.9");
    expect(clientIp(fake as never, "X-Forwarded-For")).to.equal("1.2.3.4");
    const chain = { headers: { "x-forwarded-for": "6.6.6.6, 198.51.100.2" }, socket: {} };
    expect(clientIp(chain as never, "x-forwarded-for")).to.equal("198.51.100.2");
  });

  it("reports 503 from /ready and from handlers when Redis is down, and the limiter fails closed", async () => {
    const { app: deadApp } = createServiceApp({
      service: "kit-dead",
      logger: silent,
      readiness: { redis: () => dead.ping() },
      routes: (a) => {
        a.get("/limited", async (_req, res) => {
          await enforceRateLimit(dead, { name: "x", limit: 100, windowSeconds: 60 }, "s", res);
          res.json({ ok: true });
        });
      },
    });
    const ready = await request(deadApp).get("/ready");
    expect(ready.status).to.equal(503);
    expect(ready.body.error).to.include({ code: "UNAVAILABLE", message: "not ready: redis unavailable" });
    expect((await request(deadApp).get("/limited")).status).to.equal(503);
    expect((await request(app).get("/down")).status).to.equal(503);
    expect((await request(app).get("/ready")).body).to.deep.equal({ status: "ready", checks: { redis: "ok" } });
  });

  it("serves Prometheus metrics labelled by route pattern, on the private metrics app only", async () => {
    await request(app).get("/health");
    const hidden = await request(app).get("/metrics");
    expect(hidden.status).to.equal(404);
    expect(hidden.body.error.code).to.equal("NOT_FOUND");
    expect((await request(metricsAppOf(app)).get("/health")).status).to.equal(404);
    const res = await request(metricsAppOf(app)).get("/metrics");
    expect(res.status).to.equal(200);
    expect(res.headers["content-type"]).to.match(/text\/plain/);
    expect(res.text).to.match(/http_requests_total\{method="GET",route="\/health",status="200",service="kit"\} \d+/);
  });
});
