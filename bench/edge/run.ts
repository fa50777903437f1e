// VAU ingest throughput and latency in local workerd with every check on (JWT, contract-3 signature,
// body validation, both rate limits, Durable Object dedupe, KV trust history, queue send, aggregator,
// R2 audit), next to an empty Worker that answers 200 in the same run: the ceiling of this machine.
//
//   npx tsx bench/edge/run.ts [--requests 1200] [--connections 1,8,32]
//
// Prints requests/s and p50/p95/p99 for both at each concurrency, the ratios, and the NFR check
// (p95 < 200 ms at the edge). Locally every KV, R2, queue and Durable Object call goes through
// Miniflare's simulators in one workerd process on this machine's CPUs, so the absolute figures are
// a floor for the code path, not a forecast of Cloudflare's network.
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import type { Readable } from "node:stream";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import autocannon from "autocannon";
import bs58 from "bs58";
import nacl from "tweetnacl";
import { Miniflare } from "miniflare";
import { signIdentityToken } from "@twist/shared/jwt";
import { parseJwtKeySet } from "@twist/shared/keys";
import { signedHeaders } from "@twist/shared/signed-request";
import { WORKER } from "../../runtime/edge/bindings";
import { REPO_ROOT, startEdge } from "../../runtime/edge/local/miniflare";
import { descendantPids, peakRssMiB, percentile, report, type Figure } from "../report";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const REQUESTS = Number(arg("requests", "1200"));
const CONNECTION_LEVELS = arg("connections", "1,8,32").split(",").map(Number);
const WALLETS = 100;
const NFR_P95_MS = 200;

const JWT_KEYS = "bench:bench-jwt-secret-0123456789abcdef";
const VAU_KEY = "bench-vau-signing-key-0123456789";
const SERVICE_KEY = "bench-service-signing-key-0123456789";

interface Prepared {
  body: string;
  headers: Record<string, string>;
}

interface Figures {
  name: string;
  requests: number;
  non2xx: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
}

async function load(name: string, url: string, method: "GET" | "POST", path: string, pool: Prepared[] | null, connections: number, amount = REQUESTS): Promise<Figures> {
  const latencies: number[] = [];
  let next = 0;
  let non2xx = 0;
  const started = Date.now();
  let finished!: (err: Error | null) => void;
  const done = new Promise<void>((resolve, reject) => (finished = (err) => (err ? reject(err) : resolve())));
  const instance = autocannon({
    url,
    connections,
    amount,
    requests: [
      {
        method,
        path,
        ...(pool
          ? {
              setupRequest: (req: any) => {
                const p = pool[next++ % pool.length]!;
                return { ...req, body: p.body, headers: p.headers };
              },
            }
          : {}),
      },
    ],
  }, (err) => finished(err));
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
  return { name, requests: latencies.length, non2xx, rps: latencies.length / seconds, p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) };
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, ["scripts/build.mjs", "edge"], { cwd: REPO_ROOT, stdio: "inherit" });
  if (build.status !== 0) throw new Error("building the edge bundle failed");

  // The backend the consumer delivers to: credits everything, so the consumer runs as in production.
  const backend = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const { messages } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { messages: { id: string }[] };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ results: messages.map((m) => ({ id: m.id, status: "credited" })) }));
    });
  });
  await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));

  const empty = new Miniflare({
    modules: true,
    script: `export default { fetch() { return new Response("ok"); } };`,
    compatibilityDate: WORKER.compatibilityDate,
    host: "127.0.0.1",
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => void (stdout.resume(), stderr.resume()),
  });
  const emptyUrl = await empty.ready;
  const otherWorkerd = new Set(descendantPids("workerd"));
  const edge = await startEdge({
    env: {},
    vars: {
      ENVIRONMENT: "staging",
      BACKEND_URL: `http://127.0.0.1:${(backend.address() as AddressInfo).port}`,
      JWT_KEYS,
      VAU_SIGNING_KEYS: VAU_KEY,
      SERVICE_SIGNING_KEYS: SERVICE_KEY,
      // The highest accepted limits: every run stays far below them per wallet and device.
      RATE_LIMIT_WALLET_PER_MINUTE: "1000",
      RATE_LIMIT_DEVICE_PER_MINUTE: "1000",
    },
  });

  /** The edge's own workerd process: the one started after the empty Worker's. */
  const edgeWorkerd = descendantPids("workerd").find((pid) => !otherWorkerd.has(pid));
  try {
    const keySet = parseJwtKeySet(JWT_KEYS);
    const tokens = await Promise.all(
      Array.from({ length: WALLETS }, async () => (await signIdentityToken(bs58.encode(nacl.sign.keyPair().publicKey), keySet)).token),
    );
    let offset = 0;
    /** Fresh VAUs (unique timestamps, so none is a duplicate), signed just before use. */
    const preparePool = () => {
      const now = Date.now();
      return Promise.all(
        Array.from({ length: REQUESTS }, async (_, i): Promise<Prepared> => {
          const body = JSON.stringify({ deviceId: `bench-device-${i % 500}`, siteId: "bench.example", timestamp: now - 1000 - offset++, activeMs: 30_000 });
          return {
            body,
            headers: { "content-type": "application/json", authorization: `Bearer ${tokens[i % WALLETS]}`, ...(await signedHeaders("POST", "/api/v1/vau", body, VAU_KEY)) },
          };
        }),
      );
    };

    // Warm both isolates (and the edge's Durable Objects) before measuring.
    await load("warm-up", emptyUrl.href, "GET", "/", null, 4, 200);
    await load("warm-up", edge.url.href, "POST", "/api/v1/vau", await preparePool(), 4, 100);

    console.log(`\nedge benchmark: ${REQUESTS} ingest requests per run (${REQUESTS * 10} for the empty Worker), local workerd via Miniflare, ${cpus().length} CPUs\n`);
    console.log(["run".padEnd(26), "conns".padStart(5), "req/s".padStart(8), "p50 ms".padStart(8), "p95 ms".padStart(8), "p99 ms".padStart(8), "non-2xx".padStart(8)].join(" "));
    const row = (r: Figures, c: number) =>
      console.log([r.name.padEnd(26), String(c).padStart(5), r.rps.toFixed(0).padStart(8), r.p50.toFixed(1).padStart(8), r.p95.toFixed(1).padStart(8), r.p99.toFixed(1).padStart(8), String(r.non2xx).padStart(8)].join(" "));
    const summary: string[] = [];
    const figures: Figure[] = [];
    for (const connections of CONNECTION_LEVELS) {
      // The empty Worker gets ten times the requests: a run must last well over a second to measure.
      const baseline = await load("empty Worker (200)", emptyUrl.href, "GET", "/", null, connections, REQUESTS * 10);
      const ingest = await load("VAU ingest, all checks", edge.url.href, "POST", "/api/v1/vau", await preparePool(), connections);
      row(baseline, connections);
      row(ingest, connections);
      for (const r of [baseline, ingest]) {
        figures.push({ metric: `${r.name}, ${connections} connections`, perSecond: r.rps, p50Ms: r.p50, p95Ms: r.p95, p99Ms: r.p99, note: `${r.non2xx} non-2xx` });
      }
      // workerd's high-water mark so far: every level up to this one.
      figures[figures.length - 1]!.peakRssMiB = peakRssMiB(edgeWorkerd);
      figures[figures.length - 1]!.note += `; ${(ingest.rps / baseline.rps).toFixed(3)} of the empty Worker's throughput; NFR p95 < ${NFR_P95_MS} ms ${ingest.p95 < NFR_P95_MS ? "met" : "not met"} locally`;
      summary.push(
        `${String(connections).padStart(3)} conns: ingest/empty throughput ${(ingest.rps / baseline.rps).toFixed(3)}, p95 ${(ingest.p95 / Math.max(0.1, baseline.p95)).toFixed(1)}x; ` +
          `NFR p95 < ${NFR_P95_MS} ms ${ingest.p95 < NFR_P95_MS ? "met" : "NOT met"} (${ingest.p95.toFixed(1)} ms)` +
          (ingest.non2xx ? `; ${ingest.non2xx} non-2xx` : ""),
      );
    }
    console.log(`\n${summary.join("\n")}`);
    console.log(`edge workerd peak RSS ${peakRssMiB(edgeWorkerd)?.toFixed(0) ?? "n/a"} MiB`);
    report("edge", figures);
  } finally {
    await edge.stop();
    await empty.dispose();
    backend.closeAllConnections();
    backend.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
