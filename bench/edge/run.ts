// VAU ingest throughput and latency in local workerd with every check on (JWT, contract-3 signature,
// body validation, both rate limits, Durable Object dedupe, KV trust history, queue send, aggregator,
// R2 audit), next to an empty Worker that answers 200 in the same run: the ceiling of this machine.
//
//   npx tsx bench/edge/run.ts [--requests 4000] [--connections 32]
//
// Prints requests/s and p50/p95/p99 for both, the ratios, and the NFR check (p95 < 200 ms at the edge;
// locally the figure includes workerd on this machine, not Cloudflare's network).
import { spawnSync } from "node:child_process";
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

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const REQUESTS = arg("requests", 4000);
const CONNECTIONS = arg("connections", 32);
const WALLETS = 40;
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

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function load(name: string, url: string, method: "GET" | "POST", path: string, pool: Prepared[] | null): Promise<Figures> {
  const latencies: number[] = [];
  let next = 0;
  let non2xx = 0;
  const started = Date.now();
  const instance = autocannon({
    url,
    connections: CONNECTIONS,
    amount: REQUESTS,
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
  });
  instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
    if (status < 200 || status >= 300) non2xx += 1;
  });
  await new Promise<void>((resolve, reject) => instance.once("done", () => resolve()).once("error", reject));
  const seconds = (Date.now() - started) / 1000;
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
    handleRuntimeStdio: () => {},
  });
  const emptyUrl = await empty.ready;
  const edge = await startEdge({
    env: {},
    vars: {
      ENVIRONMENT: "staging",
      BACKEND_URL: `http://127.0.0.1:${(backend.address() as AddressInfo).port}`,
      JWT_KEYS,
      VAU_SIGNING_KEYS: VAU_KEY,
      SERVICE_SIGNING_KEYS: SERVICE_KEY,
      RATE_LIMIT_WALLET_PER_MINUTE: "1000000",
      RATE_LIMIT_DEVICE_PER_MINUTE: "1000000",
    },
  });

  try {
    const keySet = parseJwtKeySet(JWT_KEYS);
    const tokens = await Promise.all(
      Array.from({ length: WALLETS }, async () => (await signIdentityToken(bs58.encode(nacl.sign.keyPair().publicKey), keySet)).token),
    );
    const now = Date.now();
    const pool: Prepared[] = await Promise.all(
      Array.from({ length: REQUESTS }, async (_, i) => {
        const body = JSON.stringify({ deviceId: `bench-device-${i % 500}`, siteId: "bench.example", timestamp: now - 1000 - i, activeMs: 30_000 });
        return {
          body,
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${tokens[i % WALLETS]}`,
            ...(await signedHeaders("POST", "/api/v1/vau", body, VAU_KEY)),
          },
        };
      }),
    );

    // Warm both isolates (and the edge's Durable Objects) before measuring.
    await fetch(emptyUrl);
    await fetch(new URL("/health", edge.url));

    const baseline = await load("empty Worker (200)", emptyUrl.href, "GET", "/", null);
    const ingest = await load("VAU ingest, all checks", edge.url.href, "POST", "/api/v1/vau", pool);

    const rows = [baseline, ingest];
    console.log(`\nedge benchmark: ${REQUESTS} requests per run, ${CONNECTIONS} connections, local workerd (Miniflare ${WORKER.compatibilityDate})\n`);
    console.log(["run".padEnd(26), "req/s".padStart(9), "p50 ms".padStart(8), "p95 ms".padStart(8), "p99 ms".padStart(8), "non-2xx".padStart(8)].join(" "));
    for (const r of rows) {
      console.log([r.name.padEnd(26), r.rps.toFixed(0).padStart(9), String(r.p50).padStart(8), String(r.p95).padStart(8), String(r.p99).padStart(8), String(r.non2xx).padStart(8)].join(" "));
    }
    console.log(`\nratio ingest/empty: throughput ${(ingest.rps / baseline.rps).toFixed(3)}, p95 latency ${(ingest.p95 / Math.max(1, baseline.p95)).toFixed(1)}x`);
    console.log(`NFR p95 < ${NFR_P95_MS} ms: ${ingest.p95 < NFR_P95_MS ? "met" : "NOT met"} locally (p95 ${ingest.p95} ms at ${CONNECTIONS} concurrent connections)`);
    if (ingest.non2xx > 0) console.log(`warning: ${ingest.non2xx} ingest requests did not answer 2xx`);
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
