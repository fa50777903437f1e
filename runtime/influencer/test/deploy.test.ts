// The deployable: configuration, migrations (empty database, re-runnable, indexes), /health /ready
// /metrics and outages, the esbuild bundles run alone as in the image, and the Dockerfile's rules.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { configProblems } from "../../../test/support/config";
import { freePort } from "../../../test/support/ports";
import { isolatedBundle, output, run, untilAnswers } from "../../../test/support/bundle";
import request from "supertest";
import { createLogger } from "@twist/shared/logger";
import { metricsAppOf } from "@twist/service";
import { createTestDatabase } from "../../../test/support/postgres";
import { DEAD_REDIS_URL, TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../../../test/support/redis";
import { createApp } from "../src/app";
import { loadInfluencerConfig } from "../src/config";
import { createSequelize } from "../src/db";
import { migrations, revertAllMigrations, runMigrations } from "../src/migrations";
import {
  BROWSER,
  countRowsAt,
  MERCHANT_KEY,
  JWT_KEYS_TEXT,
  SERVICE_KEY,
  baseEnv,
  expectEnvelope,
  merchantPost,
  newInfluencer,
  newLink,
  newWallet,
  startHarness,
  tokenFor,
  type Harness,
} from "./harness";

const ROOT = join(__dirname, "..", "..", "..");
const DOCKERFILE = readFileSync(join(ROOT, "runtime", "influencer", "Dockerfile"), "utf8");
const REQUIRED = {
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x",
  REDIS_URL: TEST_REDIS_URL,
  JWT_KEYS: JWT_KEYS_TEXT,
  SERVICE_SIGNING_KEYS: SERVICE_KEY,
  MERCHANT_SIGNING_KEYS: MERCHANT_KEY,
  IP_HASH_SALT: "a-salt-of-sixteen-chars",
  MERCHANT_DOMAINS: "shop.example.com",
  PUBLIC_BASE_URL: "https://twist.test",
};

const problems = (env: Record<string, string>) => configProblems(loadInfluencerConfig, env);

describe("influencer: configuration", () => {
  it("applies the documented defaults", () => {
    const c = loadInfluencerConfig(REQUIRED);
    expect(c).to.include({
      PORT: 3003,
      TWIST_ENV: "development",
      REDIS_PREFIX: "twist:influencer:",
      COMMISSION_DEFAULT_BPS: 1000,
      ATTRIBUTION_MODEL: "last-click",
      ATTRIBUTION_WINDOW_DAYS: 30,
    });
    expect(c.CONVERSION_CURRENCIES).to.deep.equal(["TWIST"]);
    expect(c.MERCHANT_DOMAINS).to.deep.equal(["shop.example.com"]);
  });

  it("names every missing variable; secrets have no default", () => {
    expect(problems({})).to.include.members([
      "DATABASE_URL",
      "IP_HASH_SALT",
      "JWT_KEYS",
      "MERCHANT_DOMAINS",
      "MERCHANT_SIGNING_KEYS",
      "PUBLIC_BASE_URL",
      "REDIS_URL",
      "SERVICE_SIGNING_KEYS",
    ]);
  });

  it("names every malformed variable", () => {
    const bad = {
      ...REQUIRED,
      PORT: "0",
      DATABASE_URL: "mysql://x",
      IP_HASH_SALT: "short",
      MERCHANT_DOMAINS: "https://shop.example.com/",
      CONVERSION_CURRENCIES: "twist,$$",
      ATTRIBUTION_MODEL: "linear",
      COMMISSION_DEFAULT_BPS: "10001",
    };
    expect(problems(bad)).to.deep.equal(["ATTRIBUTION_MODEL", "COMMISSION_DEFAULT_BPS", "CONVERSION_CURRENCIES", "DATABASE_URL", "IP_HASH_SALT", "MERCHANT_DOMAINS", "PORT"]);
  });
});

describe("influencer: migrations", () => {
  it("run from an empty database, are re-runnable, create the hot-path indexes and revert", async () => {
    const db = await createTestDatabase("p1mig");
    const sequelize = createSequelize(db.url, { poolMax: 4 });
    try {
      const [a, b] = await Promise.all([runMigrations(sequelize), runMigrations(sequelize)]);
      expect([...a, ...b].sort()).to.deep.equal(migrations.map((m) => m.name).sort());
      expect(await runMigrations(sequelize)).to.deep.equal([]);
      const [rows] = await sequelize.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'`);
      const defs = (rows as { indexdef: string }[]).map((r) => r.indexdef).join("\n");
      for (const expected of [
        /ON public\.users USING btree \(wallet_address\)/,
        /ON public\.influencers USING btree \(user_id\)/,
        /ON public\.influencers USING btree \(username\)/,
        /ON public\.links USING btree \(code\)/,
        /ON public\.links USING btree \(influencer_id, created_at DESC\)/,
        /ON public\.clicks USING btree \(link_id, occurred_at\)/,
        /ON public\.clicks USING btree \(visitor_hash, occurred_at\)/,
        /ON public\.conversions USING btree \(order_id\)/,
        /ON public\.conversions USING btree \(link_id, occurred_at\)/,
        /ON public\.conversions USING btree \(click_id\)/,
        /ON public\.conversions USING btree \(influencer_id\)/,
        /ON public\.email_verifications USING btree \(influencer_id\)/,
      ]) {
        expect(defs).to.match(expected);
      }
      expect(await revertAllMigrations(sequelize)).to.have.length(migrations.length);
      expect(await runMigrations(sequelize)).to.have.length(migrations.length);
    } finally {
      await sequelize.close();
      await db.drop();
    }
  });
});

describe("influencer: health, readiness, metrics, outages", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness("p1ops");
  });
  after(async () => {
    await h.close();
  });

  it("/health, /ready and /metrics answer, with request ids", async () => {
    expect((await request(h.app).get("/health")).status).to.equal(200);
    const ready = await request(h.app).get("/ready").set("X-Request-Id", "ops-check-1");
    expect(ready.status).to.equal(200);
    expect(ready.body.checks).to.deep.include({ postgres: "ok", redis: "ok" });
    expect(ready.headers["x-request-id"]).to.equal("ops-check-1");
    expect((await request(h.app).get("/metrics")).status).to.equal(404);
    const metrics = await request(metricsAppOf(h.app)).get("/metrics");
    expect(metrics.text).to.include("clicks_accepted_total").and.include("http_requests_total");
  });

  it("Redis down: /ready 503, redirects and conversions 503 (never 500), nothing half-written", async () => {
    const db = await createTestDatabase("p1opsredis");
    const sequelize = createSequelize(db.url, { poolMax: 2 });
    await runMigrations(sequelize);
    await sequelize.close();
    const prefix = testRedisPrefix("p1opsredis");
    const service = createApp(loadInfluencerConfig(baseEnv(db, prefix, { REDIS_URL: DEAD_REDIS_URL })), { logger: createLogger("t", { level: "silent" }) });
    try {
      const ready = await request(service.app).get("/ready");
      expect(ready.status).to.equal(503);
      expectEnvelope(ready.body, "UNAVAILABLE");
      const redirect = await request(service.app).get("/l/AAAAAAAAAA").set("User-Agent", "Mozilla/5.0");
      expect(redirect.status).to.equal(503);
      expectEnvelope(redirect.body, "UNAVAILABLE");
      const conversion = await merchantPost({ app: service.app } as Harness, "/api/v1/conversions", {
        orderId: "o-redis-down",
        linkCode: "AAAAAAAAAA",
        amount: "10",
        currency: "TWIST",
      });
      expect(conversion.status).to.equal(503);
      expect(await countRowsAt(db.url, "conversions")).to.equal(0);
    } finally {
      await service.close();
      await db.drop();
      await deleteRedisPrefix(prefix);
    }
  });

  it("Postgres down: /ready 503", async () => {
    const prefix = testRedisPrefix("p1opspg");
    const env = { ...REQUIRED, DATABASE_URL: "postgres://postgres@127.0.0.1:1/none", REDIS_PREFIX: prefix, LOG_LEVEL: "silent" };
    const service = createApp(loadInfluencerConfig(env), { logger: createLogger("t", { level: "silent" }) });
    try {
      const ready = await request(service.app).get("/ready");
      expect(ready.status).to.equal(503);
      expect(ready.body.error.message).to.include("postgres");
    } finally {
      await service.close();
      await deleteRedisPrefix(prefix);
    }
  });

  it("Postgres down: API routes answer 503 UNAVAILABLE (never 500), signed-in or public", async () => {
    const prefix = testRedisPrefix("p1opspg503");
    const env = { ...REQUIRED, DATABASE_URL: "postgres://postgres@127.0.0.1:1/none", REDIS_PREFIX: prefix, LOG_LEVEL: "silent" };
    const service = createApp(loadInfluencerConfig(env), { logger: createLogger("t", { level: "silent" }) });
    try {
      const auth = { Authorization: `Bearer ${await tokenFor(newWallet())}` };
      const calls: [string, Promise<request.Response>][] = [
        [
          "GET /api/v1/pools",
          request(service.app)
            .get("/api/v1/pools")
            .then((r) => r),
        ],
        [
          "GET /api/v1/influencers/somebody",
          request(service.app)
            .get("/api/v1/influencers/somebody")
            .then((r) => r),
        ],
        [
          "GET /api/v1/me/balance",
          request(service.app)
            .get("/api/v1/me/balance")
            .set(auth)
            .then((r) => r),
        ],
        [
          "POST /api/v1/payouts",
          request(service.app)
            .post("/api/v1/payouts")
            .set(auth)
            .set("Idempotency-Key", "pg-down-0001")
            .send({ amount: "100000000000" })
            .then((r) => r),
        ],
      ];
      for (const [label, call] of calls) {
        const res = await call;
        expect(res.status, label).to.equal(503);
        expectEnvelope(res.body, "UNAVAILABLE");
      }
    } finally {
      await service.close();
      await deleteRedisPrefix(prefix);
    }
  });
});

describe("influencer: the bundles, run alone as in the image", function () {
  this.timeout(60_000);
  let dir: string;
  let migrateDir: string;
  const prefix = testRedisPrefix("p1bundle");

  before(() => {
    // Only what each Dockerfile copies, outside the repository: no node_modules to fall back on.
    // The migration has an image of its own (migrate.Dockerfile).
    dir = isolatedBundle("influencer");
    migrateDir = isolatedBundle("migrate");
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(migrateDir, { recursive: true, force: true });
    await deleteRedisPrefix(prefix);
  });

  it("main.js exits 1 naming each missing variable", async () => {
    const result = await output(run(join(dir, "main.js"), {}));
    expect(result.code).to.equal(1);
    for (const name of ["DATABASE_URL", "REDIS_URL", "JWT_KEYS", "IP_HASH_SALT", "MERCHANT_SIGNING_KEYS"]) expect(result.stderr).to.contain(name);
  });

  it("migrate.js names a missing or malformed DATABASE_URL like the services do, with no stack", async () => {
    for (const env of [{}, { DATABASE_URL: "not a url" }, { DATABASE_URL: "mysql://db.example/twist" }] as Record<string, string>[]) {
      const result = await output(run(join(migrateDir, "migrate.js"), env));
      expect(result.code, JSON.stringify(env)).to.equal(1);
      expect(result.stderr).to.match(/^influencer-migrate: invalid configuration: DATABASE_URL: .+\n$/);
      expect(result.stderr + result.stdout).to.not.match(/\bat .+:\d+:\d+/);
    }
  });

  it("migrate.js migrates an empty database (twice: re-runnable); main.js serves, passes the HEALTHCHECK and flushes clicks on SIGTERM", async function () {
    // Five processes started one after the other, each waited for: 31 s of a 60 s bound on a loaded run.
    this.timeout(5 * 60_000);
    const db = await createTestDatabase("p1bundle");
    try {
      expect((await output(run(join(migrateDir, "migrate.js"), {}))).code).to.equal(1);
      for (let i = 0; i < 2; i++) {
        const migrated = await output(run(join(migrateDir, "migrate.js"), { DATABASE_URL: db.url }));
        expect(migrated.code, migrated.stderr + migrated.stdout).to.equal(0);
      }
      const port = await freePort();
      const metricsPort = await freePort();
      const env = { ...baseEnv(db, prefix), PORT: String(port), METRICS_PORT: String(metricsPort), LOG_LEVEL: "info" };
      const child = run(join(dir, "main.js"), env);
      const exited = output(child);
      const base = `http://127.0.0.1:${port}`;
      await untilAnswers(`${base}/ready`, child);
      for (const path of ["/openapi.json", "/docs", "/docs/swagger-ui-bundle.js"]) expect((await fetch(`${base}${path}`)).status, path).to.equal(200);
      // /metrics only on the private listener, not on the port the tunnel routes to.
      expect((await fetch(`${base}/metrics`)).status).to.equal(404);
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).to.equal(200);
      expect(await metrics.text()).to.include("http_requests_total");
      expect((await fetch(`http://127.0.0.1:${metricsPort}/api/v1/pools`)).status).to.equal(404);
      const healthcheck = /CMD \["node", "-e", "(.*)"\]\n\nCMD/s.exec(DOCKERFILE)![1]!.replace(/\\"/g, '"');
      const hc = spawnSync(process.execPath, ["-e", healthcheck], { env: { PORT: String(port) } });
      expect(hc.status).to.equal(0);

      // A click accepted right before SIGTERM reaches Postgres before the process exits.
      const harnessLike = { app: base } as unknown as Harness;
      const inf = await newInfluencer(harnessLike);
      const link = await newLink(harnessLike, inf);
      const res = await fetch(`${base}/l/${link.code}`, { redirect: "manual", headers: { "User-Agent": BROWSER, "X-Forwarded-For": "192.0.2.1" } });
      expect(res.status).to.equal(302);
      child.kill("SIGTERM");
      const result = await exited;
      expect(result.code).to.equal(0);
      expect(result.stdout).to.not.match(/Bearer|IP_HASH_SALT|influencer-test-jwt/);
      expect(await countRowsAt(db.url, "clicks")).to.equal(1);
    } finally {
      await db.drop();
    }
  });
});

describe("influencer: Dockerfile", () => {
  it("follows the image rules", () => {
    expect(DOCKERFILE).to.match(/^FROM node:22\.\d+\.\d+-bookworm-slim$/m);
    expect(DOCKERFILE).to.match(/^USER node$/m);
    expect(DOCKERFILE).to.match(/^EXPOSE 3003$/m);
    expect(DOCKERFILE).to.match(/^HEALTHCHECK /m);
    expect(DOCKERFILE).to.match(/^CMD \["node", "main\.js"\]$/m);
    const copies = DOCKERFILE.match(/^COPY .*$/gm) ?? [];
    // The build context is dist/images/influencer, staged with exactly these files (scripts/build.mjs):
    // the API and the worker, not the migration or backup bundles, which have images of their own.
    expect(copies).to.deep.equal(["COPY main.js main.js.map worker.js worker.js.map openapi.json ./", "COPY swagger-ui/ ./swagger-ui/"]);
  });
});
