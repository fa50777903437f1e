// Redirect throughput of GET /l/:code: builds and starts the real bundle (dist/influencer/main.js)
// as a child process on a fresh, migrated database and a bench Redis prefix, then drives it with
// autocannon next to a bare Express app answering 302 (also a child process) in the same run.
// Every request comes from a distinct visitor (X-Forwarded-For, the trusted proxy header here), so
// every redirect is a counted click: the worst case for the recorder. Prints req/s, p50/p95/p99 for
// both, and clicks recorded in Postgres (after SIGTERM's flush) vs clicks accepted (/metrics), read
// only once every request the load generator started has been answered and the service is idle.
//   npx tsx bench/clicks/run.ts [--seconds 10] [--connections 50]
// Bounded in time; drops its database and Redis keys and stops both servers whatever happens.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import autocannon from "autocannon";
import { Client } from "pg";
import { signIdentityToken } from "@twist/shared/jwt";
import { parseJwtKeySet } from "@twist/shared/keys";
import { createTestDatabase } from "../../test/support/postgres";
import { TEST_REDIS_URL, deleteRedisPrefix } from "../../test/support/redis";
import { freePort } from "../../test/support/ports";
import { exitOnUsageError, parseCommandLine, usageError } from "../../scripts/lib/cli";
import { runBench } from "../lib/main";
import { buildBundles, ROOT, waitReady } from "../lib/service";
import { cpuTimeMs, peakRssMiB, percentile, report } from "../report";

const USAGE = `usage: npx tsx bench/clicks/run.ts [--seconds <n>] [--connections <n>]
  --seconds      measured time of each server, in alternated windows (default $BENCH_SECONDS or 10)
  --connections  autocannon connections (default $BENCH_CONNECTIONS or 50)`;
const { values } = parseCommandLine({
  usage: USAGE,
  options: { seconds: { type: "string", default: process.env.BENCH_SECONDS ?? "10" }, connections: { type: "string", default: process.env.BENCH_CONNECTIONS ?? "50" } },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
try {
  if (!(SECONDS > 0)) usageError("--seconds must be a positive number", USAGE);
  if (!Number.isInteger(CONNECTIONS) || CONNECTIONS < 1) usageError("--connections must be a positive integer", USAGE);
} catch (err) {
  exitOnUsageError(err);
}

const JWT_KEYS = "bench:bench-jwt-secret-0123456789abcdef";
const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36";

/** Each side's time is split into this many windows, alternated (bare, influencer, bare, ...), so
 * a slow spell of this shared machine weighs on both sides alike instead of on one. */
const ROUNDS = 3;

interface Run {
  /** Responses answered within the windows, per second of window. */
  perSecond: number;
  redirects: number;
  other: number;
  errors: number;
  /** Per-response latencies (ms), sorted, for exact percentiles (autocannon reports p90/p97.5, not p95). */
  latencies: number[];
  /** CPU time of the server process per answered request; undefined off Linux. */
  cpuMs?: number;
}

/** Requests sent so far, across windows: the n-th request's X-Forwarded-For is the n-th address. */
let sent = 0;

/** Drives `url` for one window, charging `pid` (the server) with its CPU time. */
async function window(url: string, pid: number | undefined, seconds: number) {
  const cpuBefore = cpuTimeMs(pid);
  const latencies: number[] = [];
  const instance = autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: "GET",
        setupRequest: (req) => {
          const n = ++sent;
          return { ...req, headers: { ...req.headers, "user-agent": UA, "x-forwarded-for": `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` } };
        },
      },
    ],
  });
  // Without a callback autocannon returns a promise that is also its event emitter.
  (instance as unknown as import("node:events").EventEmitter).on("response", (_client: unknown, _status: number, _bytes: number, ms: number) => latencies.push(ms));
  const result = await instance;
  const cpuAfter = cpuTimeMs(pid);
  return { result, latencies, cpu: cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined };
}

type Target = { url: string; pid: number | undefined };

/** ROUNDS alternated windows of each target; figures over all of a target's windows. */
async function alternate(...targets: [Target, Target]): Promise<[Run, Run]> {
  const windows = targets.map(() => [] as Awaited<ReturnType<typeof window>>[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, t] of targets.entries()) windows[i]!.push(await window(t.url, t.pid, SECONDS / ROUNDS));
  }
  const [a, b] = windows.map((ws): Run => {
    const latencies = ws.flatMap((w) => w.latencies).sort((x, y) => x - y);
    const sum = (f: (w: (typeof ws)[number]) => number) => ws.reduce((s, w) => s + f(w), 0);
    const cpu = ws.every((w) => w.cpu !== undefined) ? sum((w) => w.cpu!) : undefined;
    return {
      perSecond: sum((w) => w.result.requests.total) / SECONDS,
      redirects: sum((w) => w.result["3xx"]),
      other: sum((w) => w.result.non2xx - w.result["3xx"]),
      errors: sum((w) => w.result.errors),
      latencies,
      cpuMs: cpu === undefined ? undefined : cpu / latencies.length,
    };
  });
  return [a!, b!];
}

const pct = (sorted: number[], p: number) => percentile(sorted, p).toFixed(1);

function line(name: string, r: Run): string {
  const l = r.latencies;
  return `${name.padEnd(22)} ${r.perSecond.toFixed(0).padStart(7)} req/s   p50 ${pct(l, 50)} ms  p95 ${pct(l, 95)} ms  p99 ${pct(l, 99)} ms   CPU ${r.cpuMs?.toFixed(3) ?? "n/a"} ms/req   302s ${r.redirects}  other ${r.other}  errors ${r.errors}`;
}

async function main(): Promise<void> {
  buildBundles("influencer");
  const db = await createTestDatabase("bench_clicks");
  const prefix = `twist-bench:clicks:${process.pid}:`;
  const children: ChildProcess[] = [];
  try {
    const migrate = spawnSync(process.execPath, [join(ROOT, "dist", "influencer", "migrate.js")], { env: { PATH: process.env.PATH ?? "", DATABASE_URL: db.url, LOG_LEVEL: "warn" } });
    if (migrate.status !== 0) throw new Error(`migrate failed: ${migrate.stderr}`);

    const port = await freePort();
    const metricsPort = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const service = spawn(process.execPath, [join(ROOT, "dist", "influencer", "main.js")], {
      env: {
        PATH: process.env.PATH ?? "",
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        LOG_LEVEL: "warn",
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
        JWT_KEYS,
        SERVICE_SIGNING_KEYS: "bench-service-signing-key-000001",
        MERCHANT_SIGNING_KEYS: "bench-merchant-signing-key-00001",
        IP_HASH_SALT: "bench-ip-hash-salt-0001",
        MERCHANT_DOMAINS: "shop.example.com",
        PUBLIC_BASE_URL: "https://twist.example",
        TRUSTED_PROXY_HEADER: "X-Forwarded-For",
        CLICK_RATE_LIMIT_PER_MINUTE: "1000000",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    children.push(service);
    const barePort = await freePort();
    const bare = spawn(
      process.execPath,
      [
        "-e",
        `const app = require("express")(); app.get("/l/:code", (req, res) => res.redirect(302, "https://shop.example.com/p/1?ref=bench&twist_click=" + req.params.code)); app.get("/health", (_q, s) => s.send("ok")); app.listen(${barePort}, "127.0.0.1");`,
      ],
      { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] },
    );
    children.push(bare);
    await waitReady(`${base}/ready`);
    await waitReady(`http://127.0.0.1:${barePort}/health`);

    const { token } = await signIdentityToken("9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin", parseJwtKeySet(JWT_KEYS));
    const auth = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    const reg = await fetch(`${base}/api/v1/influencers`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ username: "bench", displayName: "Bench", email: "bench@example.com" }),
    });
    if (reg.status !== 201) throw new Error(`register: ${reg.status}`);
    const link = (await (
      await fetch(`${base}/api/v1/links`, { method: "POST", headers: auth, body: JSON.stringify({ targetUrl: "https://shop.example.com/p/1?ref=bench" }) })
    ).json()) as { code: string };

    console.log(`GET /l/:code, ${CONNECTIONS} connections, ${SECONDS} s each in ${ROUNDS} alternated windows, every request a new visitor (counted click)`);
    const [bareResult, twistResult] = await alternate({ url: `http://127.0.0.1:${barePort}/l/${link.code}`, pid: bare.pid }, { url: `${base}/l/${link.code}`, pid: service.pid });
    console.log(line("bare Express 302", bareResult));
    console.log(line("influencer /l/:code", twistResult));
    const ratio = (twistResult.perSecond / bareResult.perSecond) * 100;
    console.log(`ratio: influencer redirect throughput = ${ratio.toFixed(1)} % of bare Express (target >= 60 %: ${ratio >= 60 ? "met" : "NOT met"})`);

    // autocannon resolves when its window closes, with requests still on the wire; the service
    // answers those too. Read the accepted count only once it stops moving (every request answered).
    const acceptedNow = async () => Number(/^clicks_accepted_total\{[^}]*\} (\d+)/m.exec(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())?.[1] ?? NaN);
    let accepted = await acceptedNow();
    for (let settled = 0; settled < 3; ) {
      await new Promise((r) => setTimeout(r, 200));
      const next = await acceptedNow();
      settled = next === accepted ? settled + 1 : 0;
      accepted = next;
    }
    const rss = peakRssMiB(service.pid);
    console.log(`influencer service peak RSS ${rss?.toFixed(0) ?? "n/a"} MiB`);
    service.kill("SIGTERM");
    const [code] = (await once(service, "exit")) as [number | null];
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query("SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM clicks");
    await client.end();
    const figures = (name: string, { perSecond, latencies: l }: Run) => ({
      metric: `${name}, ${CONNECTIONS} connections`,
      perSecond,
      p50Ms: percentile(l, 50),
      p95Ms: percentile(l, 95),
      p99Ms: percentile(l, 99),
    });
    report("clicks", [
      figures("bare Express 302 (the limit)", bareResult),
      {
        ...figures("GET /l/:code redirect + counted click", twistResult),
        peakRssMiB: rss,
        note: `${ratio.toFixed(1)} % of bare Express; CPU ${twistResult.cpuMs?.toFixed(3) ?? "n/a"} ms/request (bare Express ${bareResult.cpuMs?.toFixed(3) ?? "n/a"}); clicks recorded ${rows[0].n} of ${accepted} accepted (${rows[0].n === accepted ? "0 lost or doubled" : `${accepted - rows[0].n} lost`})`,
      },
    ]);
    console.log(
      `clicks: accepted ${accepted}, recorded in Postgres after SIGTERM flush ${rows[0].n} (${rows[0].ids} distinct ids; service exit ${code}): ${rows[0].n === accepted ? "0 lost, 0 doubled" : `${accepted - rows[0].n} lost`}; 302s counted by autocannon ${twistResult.redirects} (answers to requests it had stopped waiting for are accepted but not counted there)`,
    );
    if (rows[0].n !== accepted) process.exitCode = 1;
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
    await db.drop();
    await deleteRedisPrefix(prefix);
  }
}

runBench(main);
