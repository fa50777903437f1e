// The deployable: configuration at start-up, the esbuild bundle run on its own (as in the image),
// and the Dockerfile's rules, its HEALTHCHECK command run against the live bundle.
import { expect } from "chai";
import { configProblems } from "../../../test/support/config";
import { freePort } from "../../../test/support/ports";
import { isolatedBundle, output, run, untilAnswers } from "../../../test/support/bundle";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { verifyIdentityToken } from "@twist/shared/jwt";
import { loadAuthConfig } from "../src/config";
import { SIGN_IN_FAILURES } from "@twist/shared/siws";
import { JWT_KEYS, newWallet, verifyBody } from "./support";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../../../test/support/redis";
import { throwawayRedis } from "../../../test/support/throwaway";

const ROOT = join(__dirname, "..", "..", "..");
const DOCKERFILE = readFileSync(join(ROOT, "runtime", "auth", "Dockerfile"), "utf8");

const REQUIRED = { REDIS_URL: TEST_REDIS_URL, JWT_KEYS, SIWS_DOMAIN: "app.twist.test", SIWS_URI: "https://app.twist.test", SIWS_CHAIN_ID: "mainnet" };

const problems = (env: Record<string, string>) => configProblems(loadAuthConfig, env);

describe("auth: configuration", () => {
  it("applies the defaults", () => {
    const config = loadAuthConfig(REQUIRED);
    expect(config).to.include({ PORT: 3001, TWIST_ENV: "development", LOG_LEVEL: "info", REDIS_PREFIX: "twist:auth:", RATE_LIMIT_WINDOW_SECONDS: 60 });
    expect(config.TRUSTED_PROXY_HEADER).to.equal(undefined);
    expect(config.JWT_KEYS.currentKid).to.equal("k2");
  });

  it("names every missing variable; secrets have no default", () => {
    expect(problems({})).to.deep.equal(["JWT_KEYS", "REDIS_URL", "SIWS_CHAIN_ID", "SIWS_DOMAIN", "SIWS_URI"]);
  });

  it("names every malformed variable", () => {
    const bad = {
      ...REQUIRED,
      PORT: "70000",
      JWT_KEYS: "k1:short",
      SIWS_CHAIN_ID: "ethereum",
      SIWS_DOMAIN: "https://app.twist.test/",
      SIWS_URI: "not a uri",
      REDIS_URL: "http://127.0.0.1:6379",
      TRUSTED_PROXY_HEADER: "X Forwarded",
      RATE_LIMIT_PER_IP: "0",
    };
    expect(problems(bad)).to.deep.equal(["JWT_KEYS", "PORT", "RATE_LIMIT_PER_IP", "REDIS_URL", "SIWS_CHAIN_ID", "SIWS_DOMAIN", "SIWS_URI", "TRUSTED_PROXY_HEADER"]);
  });
});

describe("auth: the bundle, run alone as in the image", function () {
  this.timeout(60_000);
  let dir: string;
  const prefix = testRedisPrefix("auth-bundle");

  before(() => {
    // Only what the Dockerfile copies, outside the repository: no node_modules to fall back on.
    dir = isolatedBundle("auth");
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await deleteRedisPrefix(prefix);
  });

  it("exits 1 naming each missing variable", async () => {
    const result = await output(run(join(dir, "main.js"), {}));
    expect(result.code).to.equal(1);
    for (const name of ["JWT_KEYS", "REDIS_URL", "SIWS_DOMAIN", "SIWS_URI", "SIWS_CHAIN_ID"]) expect(result.stderr).to.contain(name);
    expect(result.stdout).to.equal("");
  });

  it("serves a full sign-in, passes the Dockerfile HEALTHCHECK, and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    const child = run(join(dir, "main.js"), { ...REQUIRED, PORT: String(port), METRICS_PORT: String(metricsPort), REDIS_PREFIX: prefix, LOG_LEVEL: "info" });
    const exited = output(child);
    try {
      const base = `http://127.0.0.1:${port}`;
      // Readiness: Redis connects a moment after the port opens.
      await untilAnswers(`${base}/ready`, child);
      // The API reference, from the files the image copies beside the bundle.
      for (const path of ["/openapi.json", "/docs", "/docs/swagger-ui-bundle.js"]) expect((await fetch(`${base}${path}`)).status, path).to.equal(200);
      // /metrics only on the private listener, not on the port the tunnel routes to.
      expect((await fetch(`${base}/metrics`)).status).to.equal(404);
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).to.equal(200);
      expect(await metrics.text()).to.include("auth_nonces_issued_total");
      expect((await fetch(`http://127.0.0.1:${metricsPort}/auth/nonce`, { method: "POST" })).status).to.equal(404);

      const wallet = newWallet();
      const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const issued = (await (await post("/auth/nonce", { walletAddress: wallet.address })).json()) as { message: string };
      const verified = await post("/auth/verify", verifyBody(wallet, issued.message, "base64"));
      expect(verified.status).to.equal(200);
      const { accessToken } = (await verified.json()) as { accessToken: string };
      expect((await verifyIdentityToken(accessToken, loadAuthConfig(REQUIRED).JWT_KEYS)).sub).to.equal(wallet.address);

      const health = spawnSync(process.execPath, healthcheckArgs(), { env: { PATH: process.env.PATH ?? "", PORT: String(port) }, timeout: 10_000 });
      expect(health.status, "HEALTHCHECK against the running service").to.equal(0);
    } finally {
      child.kill("SIGTERM");
    }
    const result = await exited;
    expect(result.code).to.equal(0);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.msg === "auth listening" && l.port === port)).to.equal(true);
    expect(lines.at(-1)).to.include({ msg: "stopped" });
    expect(result.stdout).to.not.contain(JWT_KEYS.split(",")[0]!.split(":")[1]!);
  });

  it("the HEALTHCHECK command fails when nothing answers", async () => {
    const health = spawnSync(process.execPath, healthcheckArgs(), { env: { PATH: process.env.PATH ?? "", PORT: String(await freePort()) }, timeout: 10_000 });
    expect(health.status).to.equal(1);
  });
});

describe("auth: a Redis outage in the logs", function () {
  this.timeout(90_000);
  let dir: string;
  before(() => {
    dir = isolatedBundle("auth");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("logs each outage once when it starts and once when Redis is back, never per retry (down at start-up, then down again)", async () => {
    const redis = await throwawayRedis();
    const port = await freePort();
    const child = run(join(dir, "main.js"), { ...REQUIRED, REDIS_URL: redis.url, PORT: String(port), LOG_LEVEL: "info" });
    const exited = output(child);
    const base = `http://127.0.0.1:${port}`;
    const readyIs = (status: number) => untilAnswers(`${base}/ready`, child, status);
    // Several reconnect attempts happen in each outage (every 200 ms .. 2 s).
    const retriesPass = () => new Promise((r) => setTimeout(r, 2500));
    try {
      await readyIs(503);
      await retriesPass();
      await redis.start();
      await readyIs(200);
      await redis.kill();
      await readyIs(503);
      await retriesPass();
      await redis.start();
      await readyIs(200);
    } finally {
      child.kill("SIGTERM");
    }
    const result = await exited;
    await redis.kill();
    expect(result.code, result.stderr).to.equal(0);
    const events = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; level: string; err?: { message?: string } })
      .filter((l) => /^redis /.test(l.msg));
    expect(events.map((e) => `${e.level} ${e.msg}`)).to.deep.equal([
      "error redis unavailable: requests that need it answer 503",
      "info redis available again",
      "error redis unavailable: requests that need it answer 503",
      "info redis available again",
    ]);
    expect(events[0]!.err?.message).to.match(/ECONNREFUSED/);
  });
});

/** The exec-form HEALTHCHECK of the Dockerfile, without "node". */
function healthcheckArgs(): string[] {
  const joined = DOCKERFILE.replace(/\\\n\s*/g, " ");
  const cmd = /^HEALTHCHECK .*? CMD (\[.*\])\s*$/m.exec(joined)?.[1];
  const argv = JSON.parse(cmd ?? "null") as string[];
  expect(argv[0]).to.equal("node");
  return argv.slice(1);
}

describe("auth: documentation", () => {
  it("docs/auth.md and docs/api/auth.yaml list every 401 code of /auth/verify", () => {
    const guide = readFileSync(join(ROOT, "docs", "auth.md"), "utf8");
    const openapi = readFileSync(join(ROOT, "docs", "api", "auth.yaml"), "utf8");
    for (const code of Object.keys(SIGN_IN_FAILURES)) {
      expect(guide, "docs/auth.md").to.contain(`| \`${code}\` |`);
      expect(openapi, "docs/api/auth.yaml").to.match(new RegExp(`^ +- ${code}$`, "m"));
    }
  });
});

describe("auth: Dockerfile", () => {
  const instructions = DOCKERFILE.replace(/\\\n\s*/g, " ")
    .split("\n")
    .filter((l) => l.trim() && !l.trimStart().startsWith("#"));
  const of = (name: string) => instructions.filter((l) => l.startsWith(`${name} `));

  it("builds on an exactly pinned Node 22 slim image", () => {
    expect(of("FROM")).to.have.length(1);
    expect(of("FROM")[0]).to.match(/^FROM node:22\.\d+\.\d+-(bookworm|bullseye|trixie)-slim(@sha256:[0-9a-f]{64})?$/);
  });

  it("copies only the bundle and its API docs, and runs it as a non-root user", () => {
    // The build context is dist/images/auth, staged with exactly these files (scripts/build.mjs).
    expect(of("COPY")).to.deep.equal(["COPY main.js main.js.map openapi.json ./", "COPY swagger-ui/ ./swagger-ui/"]);
    expect(of("ADD")).to.deep.equal([]);
    expect(of("RUN"), "nothing installed at build time").to.deep.equal([]);
    expect(of("USER")).to.have.length(1);
    expect(of("USER")[0]).to.not.match(/^USER (root|0)(:|$)/);
    expect(instructions.indexOf(of("USER")[0]!)).to.be.lessThan(instructions.indexOf(of("CMD")[0]!));
  });

  it("exposes 3001, has a HEALTHCHECK and starts node main.js", () => {
    expect(of("EXPOSE")).to.deep.equal(["EXPOSE 3001"]);
    expect(of("HEALTHCHECK")).to.have.length(1);
    expect(of("CMD")).to.deep.equal(['CMD ["node", "main.js"]']);
  });
});
