// VAU ingest in local workerd with every check on (JWT, contract-3 signature, body validation, the
// wallet's gate: rate limits, dedupe, trust; the queue send; aggregator and R2 audit off the hot
// path), in one run beside two references on the same machine and connections:
//   - an empty Worker that answers 200: the ceiling of this machine;
//   - the limit Worker: exactly one Durable Object call with one SQLite write plus one queue send per
//     request, the least a VAU can cost (issue 14). The VAU path is judged by its ratio to this one.
// Then batches of 100 VAUs per request (VAUs/s accepted, read from the Worker's own counters).
//
//   npx tsx bench/edge/run.ts [--requests 1200] [--connections 1,8,32] [--batches 100]
//
// Locally every KV, R2, queue and Durable Object call goes through Miniflare's simulators in
// workerd on this machine's CPUs, so absolute figures are a floor for the code path, not a forecast
// of Cloudflare's network; the ratios, measured in the same run, are what carries over.
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus } from "node:os";
import type { Readable } from "node:stream";
import autocannon from "autocannon";
import bs58 from "bs58";
import nacl from "tweetnacl";
import { Miniflare } from "miniflare";
import { signIdentityToken } from "@twist/shared/jwt";
import { parseJwtKeySet } from "@twist/shared/keys";
import { signedHeaders } from "@twist/shared/signed-request";
import { WORKER } from "../../runtime/edge/bindings";
import { REPO_ROOT, startEdge } from "../../runtime/edge/local/miniflare";
import { parseCommandLine, usageError } from "../../scripts/lib/cli";
import { waitFor } from "../../runtime/edge/test/support";
import { cpuTimeMs, descendantPids, peakRssMiB, percentile, report, type Figure } from "../report";

const USAGE = `usage: npx tsx bench/edge/run.ts [--requests <n>] [--connections <n,n,...>] [--batches <n>]
  --requests     single-VAU requests per run, for the VAU path and the limit Worker (default 1200;
                 the empty Worker gets ten times as many)
  --connections  comma-separated concurrency levels (default 1,8,32)
  --batches      batch requests of 100 VAUs per level (default 100)`;

const { values } = parseCommandLine({
  usage: USAGE,
  options: {
    requests: { type: "string", default: "1200" },
    connections: { type: "string", default: "1,8,32" },
    batches: { type: "string", default: "100" },
  },
});
const positive = (name: string, raw: string) => {
  if (!/^[1-9][0-9]{0,6}$/.test(raw)) usageError(`--${name} must be a positive integer, got "${raw}"`, USAGE);
  return Number(raw);
};
const REQUESTS = positive("requests", values.requests);
const CONNECTION_LEVELS = values.connections.split(",").map((c) => positive("connections", c.trim()));
const BATCHES = positive("batches", values.batches);
/** Requests each Worker serves before the measured runs. */
const WARM_UP = 1000;
const BATCH_SIZE = 100;
const WALLETS = 100;
const NFR_P95_MS = 200;
const TARGET_RATIO = 0.5;

const JWT_KEYS = "bench:bench-jwt-secret-0123456789abcdef";
const VAU_KEY = "bench-vau-signing-key-0123456789";
const SERVICE_KEY = "bench-service-signing-key-0123456789";

/** One DO call (one SQLite insert) and one queue send per request, keyed like the VAU path (by token). */
const LIMIT_WORKER = `
import { DurableObject } from "cloudflare:workers";
export class Limit extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS seen (n INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)");
  }
  async write(body) {
    this.ctx.storage.sql.exec("INSERT INTO seen (body) VALUES (?)", body);
    return true;
  }
}
export default {
  async fetch(request, env) {
    const body = await request.text();
    await env.LIMIT.get(env.LIMIT.idFromName(request.headers.get("authorization") ?? "")).write(body);
    await env.QUEUE.send({ bytes: body.length }, { contentType: "json" });
    return new Response("ok");
  },
  async queue(batch) { batch.ackAll(); },
};`;

interface Prepared {
  body: string;
  headers: Record<string, string>;
}

interface Figures {
  name: string;
  requests: number;
  non2xx: number;
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  /** CPU time of the Worker's workerd per request, over the run (and `settle`); undefined off Linux. */
  cpuMs?: number;
}

/** Whose CPU a run is charged with: one workerd, until `settle` (work the run left queued) is done. */
interface CpuOf {
  pid: number | undefined;
  settle?: () => Promise<unknown>;
}

async function load(name: string, url: string, method: "GET" | "POST", path: string, pool: Prepared[] | null, connections: number, amount: number, cpu?: CpuOf): Promise<Figures> {
  const latencies: number[] = [];
  const cpuBefore = cpuTimeMs(cpu?.pid);
  let next = 0;
  let non2xx = 0;
  const started = Date.now();
  let finished!: (err: Error | null) => void;
  const done = new Promise<void>((resolve, reject) => (finished = (err) => (err ? reject(err) : resolve())));
  const setup = pool
    ? {
        setupRequest: (req: any) => {
          const p = pool[next++ % pool.length]!;
          return { ...req, body: p.body, headers: p.headers };
        },
      }
    : {};
  const instance = autocannon({ url, connections, amount, requests: [{ method, path, ...setup }] }, (err) => finished(err));
  let lastResponse = started;
  instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
    lastResponse = Date.now();
    latencies.push(ms);
    if (status < 200 || status >= 300) non2xx += 1;
  });
  await done;
  // Up to the last response: autocannon reports "done" on its next one-second tick.
  const seconds = Math.max(0.001, (lastResponse - started) / 1000);
  latencies.sort((a, b) => a - b);
  await cpu?.settle?.();
  const cpuAfter = cpuTimeMs(cpu?.pid);
  const cpuMs = cpuBefore !== undefined && cpuAfter !== undefined ? (cpuAfter - cpuBefore) / latencies.length : undefined;
  return {
    name,
    requests: latencies.length,
    non2xx,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    cpuMs,
  };
}

const quiet = (stdout: Readable, stderr: Readable) => {
  stdout.resume();
  stderr.resume();
};

/** A workerd started by `start` and its process id (the one that was not there before). */
async function withPid<T>(start: () => Promise<T>): Promise<{ value: T; pid: number | undefined }> {
  const before = new Set(descendantPids("workerd"));
  const value = await start();
  return { value, pid: descendantPids("workerd").find((pid) => !before.has(pid)) };
}

/** A counter of the edge's /metrics (a series written out in full, labels included). */
async function counter(edgeUrl: URL, series: string): Promise<number> {
  const text = await (await fetch(new URL("/metrics", edgeUrl))).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return Number(line?.slice(series.length + 1) ?? "0");
}

async function main(): Promise<void> {
  console.log("building the edge bundle ...");
  const build = spawnSync(process.execPath, ["scripts/build.mjs", "edge"], { cwd: REPO_ROOT, stdio: "inherit" });
  if (build.status !== 0) throw new Error("building the edge bundle failed");

  // The backend the consumer delivers to: credits everything, so the consumer runs as in production.
  let delivered = 0;
  const backend = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const { messages } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { messages: { id: string }[] };
      delivered += messages.length;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ results: messages.map((m) => ({ id: m.id, status: "credited" })) }));
    });
  });
  await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));

  console.log("starting the empty Worker, the limit Worker and the edge Worker in workerd ...");
  const { value: empty, pid: emptyPid } = await withPid(async () => {
    const mf = new Miniflare({
      modules: true,
      script: `export default { fetch() { return new Response("ok"); } };`,
      compatibilityDate: WORKER.compatibilityDate,
      host: "127.0.0.1",
      handleRuntimeStdio: quiet,
    });
    return { mf, url: await mf.ready };
  });
  const emptyUrl = empty.url;
  const { value: limit, pid: limitPid } = await withPid(async () => {
    const mf = new Miniflare({
      modules: true,
      script: LIMIT_WORKER,
      compatibilityDate: WORKER.compatibilityDate,
      host: "127.0.0.1",
      durableObjects: { LIMIT: { className: "Limit", useSQLite: true } },
      queueProducers: { QUEUE: { queueName: "limit" } },
      queueConsumers: { limit: { maxBatchSize: 50, maxBatchTimeout: 1 } },
      handleRuntimeStdio: quiet,
    });
    return { mf, url: await mf.ready };
  });
  const { value: edge, pid: edgePid } = await withPid(() =>
    startEdge({
      env: {},
      vars: {
        ENVIRONMENT: "staging",
        BACKEND_URL: `http://127.0.0.1:${(backend.address() as AddressInfo).port}`,
        JWT_KEYS,
        VAU_SIGNING_KEYS: VAU_KEY,
        SERVICE_SIGNING_KEYS: SERVICE_KEY,
        // The highest accepted limits: every run stays below them per wallet and device.
        RATE_LIMIT_WALLET_PER_MINUTE: "1000",
        RATE_LIMIT_DEVICE_PER_MINUTE: "1000",
      },
    }),
  );

  try {
    const keySet = parseJwtKeySet(JWT_KEYS);
    const tokens = await Promise.all(Array.from({ length: WALLETS }, async () => (await signIdentityToken(bs58.encode(nacl.sign.keyPair().publicKey), keySet)).token));
    let offset = 0;
    const vau = (i: number, now: number) => ({ deviceId: `bench-device-${i % 500}`, siteId: "bench.example", timestamp: now - 1000 - offset++, activeMs: 30_000 });
    const signed = async (path: string, body: string, wallet: number): Promise<Prepared> => ({
      body,
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens[wallet % WALLETS]}`, ...(await signedHeaders("POST", path, body, VAU_KEY)) },
    });
    /** Fresh VAUs (unique timestamps, so none is a duplicate), signed just before use. */
    const singles = (n: number) => {
      const now = Date.now();
      return Promise.all(Array.from({ length: n }, (_, i) => signed("/api/v1/vau", JSON.stringify(vau(i, now)), i)));
    };
    const batches = (n: number) => {
      const now = Date.now();
      return Promise.all(
        Array.from({ length: n }, (_, b) => signed("/api/v1/vau/batch", JSON.stringify({ vaus: Array.from({ length: BATCH_SIZE }, (_, i) => vau(b * BATCH_SIZE + i, now)) }), b)),
      );
    };

    console.log("warming up ...");
    await load("warm-up", emptyUrl.href, "GET", "/", null, 4, 200);
    // Long enough for the hot paths to be optimised: the 1-connection runs come first and their p95
    // would otherwise count the compiler's work.
    await load("warm-up", limit.url.href, "POST", "/", await singles(WARM_UP), 4, WARM_UP);
    await load("warm-up", edge.url.href, "POST", "/api/v1/vau", await singles(WARM_UP), 4, WARM_UP);

    console.log(
      `\nedge benchmark: ${REQUESTS} single-VAU requests per run (${REQUESTS * 10} for the empty Worker), ${BATCHES} batches of ${BATCH_SIZE}, local workerd via Miniflare, ${cpus().length} CPUs\n`,
    );
    console.log(
      [
        "run".padEnd(30),
        "conns".padStart(5),
        "req/s".padStart(8),
        "VAUs/s".padStart(8),
        "p50 ms".padStart(8),
        "p95 ms".padStart(8),
        "p99 ms".padStart(8),
        "non-2xx".padStart(8),
        "CPU ms/req".padStart(11),
      ].join(" "),
    );
    const row = (r: Figures, c: number, vausPerSecond?: number) =>
      console.log(
        [
          r.name.padEnd(30),
          String(c).padStart(5),
          r.rps.toFixed(0).padStart(8),
          (vausPerSecond?.toFixed(0) ?? "").padStart(8),
          r.p50.toFixed(1).padStart(8),
          r.p95.toFixed(1).padStart(8),
          r.p99.toFixed(1).padStart(8),
          String(r.non2xx).padStart(8),
          (r.cpuMs?.toFixed(2) ?? "n/a").padStart(11),
        ].join(" "),
      );
    // The edge's CPU includes delivering what the run queued: its consumer shares the workerd.
    const edgeCpu: CpuOf = {
      pid: edgePid,
      settle: async () => {
        const queued = await counter(edge.url, "twist_edge_reward_messages_total");
        await waitFor(`${queued} reward messages delivered`, () => (delivered >= queued ? true : undefined), 120_000);
      },
    };
    const costs: string[] = [];
    const verdicts: string[] = [];
    const figures: Figure[] = [];
    for (const connections of CONNECTION_LEVELS) {
      console.log(`-- ${connections} connection(s)`);
      // The empty Worker gets ten times the requests: a run must last well over a second to measure.
      const baseline = await load("empty Worker (200)", emptyUrl.href, "GET", "/", null, connections, REQUESTS * 10, { pid: emptyPid });
      row(baseline, connections);
      const floor = await load("limit Worker (1 DO + 1 queue)", limit.url.href, "POST", "/", await singles(REQUESTS), connections, REQUESTS, { pid: limitPid });
      row(floor, connections);
      const single = await load("VAU ingest, all checks", edge.url.href, "POST", "/api/v1/vau", await singles(REQUESTS), connections, REQUESTS, edgeCpu);
      row(single, connections);
      const accepted = 'twist_edge_vau_total{outcome="accepted"}';
      const before = await counter(edge.url, accepted);
      // autocannon refuses more connections than requests.
      const batch = await load(
        `batch of ${BATCH_SIZE}, all checks`,
        edge.url.href,
        "POST",
        "/api/v1/vau/batch",
        await batches(BATCHES),
        Math.min(connections, BATCHES),
        BATCHES,
        edgeCpu,
      );
      const acceptedPerSecond = ((await counter(edge.url, accepted)) - before) / batch.seconds;
      row(batch, connections, acceptedPerSecond);
      if (floor.cpuMs !== undefined && single.cpuMs !== undefined && batch.cpuMs !== undefined) {
        const perVau = batch.cpuMs / BATCH_SIZE;
        costs.push(
          `${String(connections).padStart(3)} conns: limit ${floor.cpuMs.toFixed(2)} ms, VAU ${single.cpuMs.toFixed(2)} ms per request (limit/VAU ${(floor.cpuMs / single.cpuMs).toFixed(2)}); ` +
            `in a batch ${perVau.toFixed(2)} ms per VAU, so ${(single.cpuMs - perVau).toFixed(2)} ms of a single VAU's request is per request`,
        );
      }

      const ratio = single.rps / floor.rps;
      const p95Ratio = single.p95 / Math.max(0.1, floor.p95);
      console.log(`ratio to the one-round-trip limit at ${connections} connections: ${ratio.toFixed(2)}`);
      figures.push(
        {
          metric: `empty Worker, ${connections} connections`,
          perSecond: baseline.rps,
          p50Ms: baseline.p50,
          p95Ms: baseline.p95,
          p99Ms: baseline.p99,
          note: `${baseline.non2xx} non-2xx`,
        },
        {
          metric: `limit Worker (1 DO write + 1 queue send), ${connections} connections`,
          perSecond: floor.rps,
          p50Ms: floor.p50,
          p95Ms: floor.p95,
          p99Ms: floor.p99,
          peakRssMiB: peakRssMiB(limitPid),
          note: `${floor.non2xx} non-2xx`,
        },
        {
          metric: `VAU ingest, ${connections} connections`,
          perSecond: single.rps,
          p50Ms: single.p50,
          p95Ms: single.p95,
          p99Ms: single.p99,
          peakRssMiB: peakRssMiB(edgePid),
          note: `ratio to the one-round-trip limit ${ratio.toFixed(2)}; p95 ${p95Ratio.toFixed(1)}x the limit's; ${single.non2xx} non-2xx`,
        },
        {
          metric: `VAU batch of ${BATCH_SIZE}, ${connections} connections`,
          perSecond: batch.rps,
          p50Ms: batch.p50,
          p95Ms: batch.p95,
          p99Ms: batch.p99,
          note: `${acceptedPerSecond.toFixed(0)} VAUs/s accepted; ${batch.non2xx} non-2xx`,
        },
      );
      const checks = [
        connections >= 8 ? `ratio ${ratio.toFixed(2)} ${ratio >= TARGET_RATIO ? ">=" : "< (NOT met)"} ${TARGET_RATIO}` : `ratio ${ratio.toFixed(2)} (no target at ${connections})`,
        `p95 ${single.p95.toFixed(1)} ms ${p95Ratio <= 2 ? "<=" : "> (NOT met)"} 2 x the limit's ${floor.p95.toFixed(1)} ms`,
        single.p95 < NFR_P95_MS
          ? `p95 < ${NFR_P95_MS} ms`
          : `p95 >= (NOT met) ${NFR_P95_MS} ms${floor.p95 >= NFR_P95_MS ? ` (so is the limit Worker's, ${floor.p95.toFixed(1)} ms: one DO write and one queue send already miss it on this machine now)` : ""}`,
        `${single.non2xx + batch.non2xx} non-2xx${single.non2xx + batch.non2xx ? " (NOT met)" : ""}`,
      ];
      verdicts.push(`${String(connections).padStart(3)} conns: ${checks.join("; ")}`);
    }
    console.log(`\ntargets (issue 14), judged by ratios on this machine:\n${verdicts.join("\n")}`);
    // workerd serves every isolate, Durable Object, binding simulator and the queue consumer of one
    // Miniflare on one thread: once that thread is busy, requests/s is about 1000 / CPU ms per request,
    // so the throughput ratio tends to the CPU ratio whatever the machine's load.
    console.log(
      `\nwhere the time goes: workerd CPU per request (user + system; the edge's includes delivering every reward message it queued). ` +
        `One thread serves each Miniflare, so at saturation req/s ~ 1000 / CPU ms and the throughput ratio tends to limit/VAU:\n${costs.join("\n")}`,
    );
    console.log(`peak RSS: edge workerd ${peakRssMiB(edgePid)?.toFixed(0) ?? "n/a"} MiB, limit workerd ${peakRssMiB(limitPid)?.toFixed(0) ?? "n/a"} MiB`);
    report("edge", figures);
  } finally {
    await edge.stop();
    await limit.mf.dispose();
    await empty.mf.dispose();
    backend.closeAllConnections();
    backend.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
