// Runs every benchmark (bench/<name>/run.ts) one after another, shows their output, and writes one
// table of their headline figures, with the machine they ran on and charts of them (bench/charts.ts),
// to docs/performance.md.
//   bench/run [--seconds <n>] [name ...]     (or: npm run bench -- ...)
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { cpus, freemem, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { exitOnUsageError, parseCommandLine, usageError } from "../scripts/lib/cli";
import { drawCharts } from "./charts";
import type { Figure } from "./report";

const ROOT = join(__dirname, "..");
const all = readdirSync(__dirname, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(__dirname, d.name, "run.ts")))
  .map((d) => d.name)
  .sort();
const USAGE = `usage: bench/run [--seconds <n>] [name ...]
  name        benchmarks to run (default all: ${all.join(", ")})
  --seconds   every benchmark's measured run length, as BENCH_SECONDS (default: each benchmark's own)`;
const { values, positionals } = parseCommandLine({ usage: USAGE, options: { seconds: { type: "string" } }, allowPositionals: true });
try {
  if (values.seconds !== undefined && !(Number(values.seconds) > 0)) usageError("--seconds must be a positive number", USAGE);
  const unknown = positionals.filter((n) => !all.includes(n));
  if (unknown.length) usageError(`unknown benchmark(s): ${unknown.join(", ")}; available: ${all.join(", ")}`, USAGE);
} catch (err) {
  exitOnUsageError(err);
}
const chosen = positionals.length ? positionals : all;

const reportFile = join(mkdtempSync(join(tmpdir(), "twist-bench-")), "figures.jsonl");
const failed: string[] = [];
for (const name of chosen) {
  console.log(`\n=== bench/${name}`);
  const run = spawnSync(process.execPath, ["--import", "tsx", join("bench", name, "run.ts")], {
    cwd: ROOT,
    stdio: "inherit",
    // Every benchmark reads its run length from BENCH_SECONDS (a flag of its own overrides it).
    env: { ...process.env, BENCH_REPORT: reportFile, ...(values.seconds ? { BENCH_SECONDS: values.seconds } : {}) },
  });
  if (run.status !== 0) failed.push(name);
}

const figures = existsSync(reportFile)
  ? readFileSync(reportFile, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Figure & { bench: string })
  : [];
const main = async () => {
  const charts = await drawCharts(figures, join(ROOT, "docs"));
  const num = (v: number | undefined, digits: number) => (v === undefined || Number.isNaN(v) ? "" : v.toFixed(digits));
  const cpu = cpus();
  const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM (${(freemem() / 2 ** 30).toFixed(0)} GiB free at the end), Node ${process.version}, ${process.platform}`;
  const rows = figures.map(
    (f) => `| ${f.bench} | ${f.metric} | ${num(f.perSecond, 0)} | ${num(f.p50Ms, 1)} | ${num(f.p95Ms, 1)} | ${num(f.p99Ms, 1)} | ${num(f.peakRssMiB, 0)} | ${f.note ?? ""} |`,
  );
  const doc = `# Performance

Written by \`bench/run\` on ${new Date().toISOString().slice(0, 10)}: every figure below comes from one run of the
benchmarks on one machine, local loopback only. They are local figures, not edge or production
numbers: the load generator shares the machine's cores with the system under test, so it is kept
cheap: autocannon (clicks, edge), or node:http on keep-alive connections (\`bench/lib/http\`: fetch
cost 5-8 times the CPU per request).

Machine: ${machine}.
Peak RSS is the resident memory high-water mark of the system under test: the service process
(auth, clicks), workerd (edge), or the benchmark process holding the ledger module (ledger).
${failed.length ? `\n**Benchmarks that failed in this run:** ${failed.join(", ")}.\n` : ""}
${charts.map((c) => `![${c.title}](${c.file})`).join("\n\n")}

| bench | what | per second | p50 ms | p95 ms | p99 ms | peak RSS MiB | notes |
|---|---|---:|---:|---:|---:|---:|---|
${rows.join("\n")}

Re-run with \`bench/run\` (all) or \`bench/run edge auth\` (some). Each benchmark also runs alone:
\`npx tsx bench/<name>/run.ts\`; its full output explains each figure. What each one drives:

- \`bench/edge\`: VAU ingest through the real Worker bundle in workerd (JWT, signature, rate limit,
  dedupe Durable Object, KV, queue, audit), next to an empty Worker returning 200 in the same run.
- \`bench/backup\`: Postgres backup (pg_dump, AES-256-GCM, S3 upload to s3rver) and restore + verification, for API-seeded data and with 1,000,000 ledger transfers, next to plain pg_dump/pg_restore.
- \`bench/auth\`: sign-ins (nonce + ed25519-signed verify) against the auth bundle, and raw ed25519
  verifications per second of node:crypto and tweetnacl in the same process.
- \`bench/clicks\`: \`GET /l/:code\` redirects (a front route, answered ahead of Express:
  docs/influencer.md) with every request a new visitor (a counted click),
  next to a bare Express 302 (three alternated windows each, so a slow spell weighs on both), the
  server's CPU per request, and the clicks recorded in Postgres against those accepted.
- \`bench/events\`: \`GET /api/v1/events\` on the influencer bundle (one instance): 5,000 authenticated
  sockets, one wallet each, and events published to every wallet through the real hook
  (\`recordEvents\` in transactions, NOTIFY on commit): events/s delivered, delivery latency from the
  publisher's commit to the frame received, and server memory per socket, next to a bare \`ws\`
  server sending as many frames to as many sockets in the same run.
- \`bench/ledger\`: at each concurrency, pgbench simple-update on a throwaway database before and
  after the paths (the limit: the mean of the two, since its tps follows the disk's fsync latency),
  reward credits through signed \`POST /internal/v1/rewards\` in deliveries of 100, stakes to one pool
  and spread over 100 pools, ledger module transfers, each as a ratio to pgbench; then one
  commission distributed to 10,000 stakers.
- \`bench/pipeline\`: VAUs sent to the edge at steady rates through the real queue consumer to the
  ledger: VAUs/s sustained, lag from the edge's 200 to the credit in the wallet's balance, credits
  lost or doubled, and the highest rate with bounded lag: found in 10 s runs, then held for 60 s
  (halved, at most twice, while the 60 s run is not bounded).
`;
  writeFileSync(join(ROOT, "docs", "performance.md"), doc);
  console.log(`\nwrote docs/performance.md (${figures.length} figures from ${chosen.length - failed.length}/${chosen.length} benchmarks)`);
  process.exit(failed.length ? 1 : 0);
};
main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
