// Sign-in throughput of the auth service: builds and starts the real bundle (dist/auth/main.js) as a
// child process against local Redis under a bench prefix, drives complete sign-ins (POST /auth/nonce,
// sign, POST /auth/verify) from a bounded concurrent loop, and prints sign-ins/s with p50/p95/p99
// next to the raw ed25519 verifications/s of node:crypto and tweetnacl measured in the same run.
//   npx tsx bench/auth/run.ts [--seconds 10] [--concurrency 8]
// The client signs with node:crypto (tens of microseconds) and sends on node:http keep-alive
// connections (bench/lib/http), so it is not the bottleneck. Bounded in
// time; deletes its Redis keys and stops the service whatever happens.
import { spawn } from "node:child_process";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { once } from "node:events";
import { join } from "node:path";
import bs58 from "bs58";
import nacl from "tweetnacl";
import { verifyEd25519 } from "../../runtime/auth/src/signature";
import { TEST_REDIS_URL, deleteRedisPrefix } from "../../test/support/redis";
import { peakRssMiB, percentile, report } from "../report";
import { freePort } from "../../test/support/ports";
import { exitOnUsageError, parseCommandLine, usageError } from "../../scripts/lib/cli";
import { send } from "../lib/http";
import { runBench } from "../lib/main";
import { buildBundles, ROOT, waitReady } from "../lib/service";

const USAGE = `usage: npx tsx bench/auth/run.ts [--seconds <n>] [--concurrency <n>]
  --seconds      length of the measured run, after 1.5 s of warm-up (default $BENCH_SECONDS or 10)
  --concurrency  sign-in clients running at once (default $BENCH_CONCURRENCY or 8)`;
const { values } = parseCommandLine({
  usage: USAGE,
  options: { seconds: { type: "string", default: process.env.BENCH_SECONDS ?? "10" }, concurrency: { type: "string", default: process.env.BENCH_CONCURRENCY ?? "8" } },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
try {
  if (!(SECONDS > 0)) usageError("--seconds must be a positive number", USAGE);
  if (!Number.isInteger(CONCURRENCY) || CONCURRENCY < 1) usageError("--concurrency must be a positive integer", USAGE);
} catch (err) {
  exitOnUsageError(err);
}

const WALLETS = 256;

interface Wallet {
  address: string;
  privateKey: KeyObject;
}

function wallet(): Wallet {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  return { address: bs58.encode(raw), privateKey };
}

/** Verifications per second of `verify` over `ms` milliseconds. */
function rate(verify: () => boolean, ms: number): number {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (!verify()) throw new Error("bench signature did not verify");
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

function rawVerifyRates() {
  const pair = nacl.sign.keyPair();
  const message = new TextEncoder().encode(`app.twist.example wants you to sign in with your Solana account:\n${"x".repeat(250)}`);
  const signature = nacl.sign.detached(message, pair.secretKey);
  return {
    // As the server runs it: SPKI import of the 32-byte key plus verify, per call.
    node: rate(() => verifyEd25519(message, signature, pair.publicKey), 1500),
    tweetnacl: rate(() => nacl.sign.detached.verify(message, signature, pair.publicKey), 1500),
  };
}

async function main(): Promise<void> {
  const raw = rawVerifyRates();
  const chosen = raw.node >= raw.tweetnacl ? "node:crypto" : "tweetnacl";

  buildBundles("auth");

  const prefix = `twist-bench:auth:${process.pid}:`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const service = spawn(process.execPath, [join(ROOT, "dist", "auth", "main.js")], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: String(port),
      METRICS_PORT: "0",
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: "warn",
      TWIST_ENV: "development",
      JWT_KEYS: "bench:bench-only-jwt-secret-0000000001",
      SIWS_DOMAIN: "app.twist.example",
      SIWS_URI: "https://app.twist.example",
      SIWS_CHAIN_ID: "devnet",
      RATE_LIMIT_PER_IP: "1000000000",
      RATE_LIMIT_PER_WALLET: "1000000000",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const stopped = once(service, "exit");

  try {
    await waitReady(`${base}/ready`);

    const wallets = Array.from({ length: WALLETS }, wallet);
    const post = (path: string, body: unknown) => send(`${base}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const signIn = async (w: Wallet) => {
      const nonce = await post("/auth/nonce", { walletAddress: w.address });
      if (nonce.status !== 200) throw new Error(`nonce ${nonce.status}`);
      const { message } = JSON.parse(nonce.text) as { message: string };
      const signature = sign(null, Buffer.from(message, "utf8"), w.privateKey).toString("base64");
      const verified = await post("/auth/verify", { walletAddress: w.address, message, signature });
      if (verified.status !== 200) throw new Error(`verify ${verified.status}`);
      JSON.parse(verified.text);
    };

    const load = async (ms: number, record: boolean) => {
      const latencies: number[] = [];
      let errors = 0;
      let next = 0;
      const end = performance.now() + ms;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (performance.now() < end) {
            const w = wallets[next++ % wallets.length]!;
            const t = performance.now();
            try {
              await signIn(w);
              if (record) latencies.push(performance.now() - t);
            } catch {
              errors++;
            }
          }
        }),
      );
      return { latencies, errors, elapsed: (performance.now() - started) / 1000 };
    };

    await load(1500, false); // warm-up: JIT, connection pool, Redis script cache
    const { latencies, errors, elapsed } = await load(SECONDS * 1000, true);
    latencies.sort((a, b) => a - b);
    const perSecond = latencies.length / elapsed;

    const ms = (v: number) => `${v.toFixed(2)} ms`;
    console.log(`auth sign-in benchmark (bundle dist/auth/main.js, ${CONCURRENCY} concurrent clients, ${SECONDS} s, local Redis)`);
    console.log(`  sign-ins completed   ${latencies.length} (${errors} errors)`);
    console.log(`  sign-ins/s           ${perSecond.toFixed(0)}   (each = POST /auth/nonce + POST /auth/verify)`);
    console.log(`  latency p50/p95/p99  ${ms(percentile(latencies, 50))} / ${ms(percentile(latencies, 95))} / ${ms(percentile(latencies, 99))}`);
    console.log(`raw ed25519 verifications/s in this process (same run)`);
    console.log(`  node:crypto          ${raw.node.toFixed(0)}   (SPKI import + verify per call, as the server does)`);
    console.log(`  tweetnacl            ${raw.tweetnacl.toFixed(0)}`);
    console.log(`  chosen: ${chosen} (${(raw.node / raw.tweetnacl).toFixed(0)}x tweetnacl)`);
    console.log(`ratio sign-ins/s : raw ${chosen} verifies/s = ${(perSecond / Math.max(raw.node, raw.tweetnacl)).toFixed(3)}`);
    const rss = peakRssMiB(service.pid);
    console.log(`  service peak RSS     ${rss?.toFixed(0) ?? "n/a"} MiB`);
    report("auth", [
      {
        metric: `sign-ins (nonce + verify), ${CONCURRENCY} clients`,
        peakRssMiB: rss,
        perSecond,
        p50Ms: percentile(latencies, 50),
        p95Ms: percentile(latencies, 95),
        p99Ms: percentile(latencies, 99),
        note: `${errors} errors; ratio to raw ${chosen} verifies ${(perSecond / Math.max(raw.node, raw.tweetnacl)).toFixed(3)}`,
      },
      { metric: "raw ed25519 verify, node:crypto (chosen)", perSecond: raw.node },
      { metric: "raw ed25519 verify, tweetnacl", perSecond: raw.tweetnacl, note: `node:crypto is ${(raw.node / raw.tweetnacl).toFixed(0)}x faster` },
    ]);
    if (errors > 0) process.exitCode = 1;
  } finally {
    service.kill("SIGTERM");
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 5000))]);
    if (service.exitCode === null) service.kill("SIGKILL");
    await deleteRedisPrefix(prefix);
  }
}

runBench(main);
