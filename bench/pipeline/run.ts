// The whole platform end to end: signed VAUs sent to the edge (real Worker in workerd via the
// platform launcher, scripts/platform) at a steady rate, through the real queue consumer to the
// backend's ledger. Prints VAUs/s sustained, the lag from the edge's 200 to the credit being
// visible in the wallet's balance (p50/p95), and credits lost or doubled (must be 0).
// First a search over rates (short runs, doubling from --start-rate, at most --max-steps) for the
// highest rate whose lag stays bounded, then the headline run at that rate for --seconds (at half
// the rate again, up to HEADLINE_RETRIES times, while it is not bounded over that longer run).
// The edge is driven only through its HTTP API; balances are read from the ledger table the
// balance endpoint reads, for all wallets in one query every --poll-ms.
//   npx tsx bench/pipeline/run.ts [--seconds 60] [--search-seconds 10] [--start-rate 25] [--max-steps 5] [--lag-bound-ms 5000]
import { randomBytes } from "node:crypto";
import bs58 from "bs58";
import { Client } from "pg";
import { signIdentityToken } from "@twist/shared/jwt";
import { parseJwtKeySet } from "@twist/shared/keys";
import { signedHeaders } from "@twist/shared/signed-request";
import { startPlatform } from "../../scripts/platform";
import { exitOnUsageError, parseCommandLine, usageError } from "../../scripts/lib/cli";
import { createTestDatabase } from "../../test/support/postgres";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../../test/support/redis";
import { freePort } from "../../test/support/ports";
import { send } from "../lib/http";
import { runBench } from "../lib/main";
import { buildBundles } from "../lib/service";
import { percentile, report } from "../report";

const USAGE = `usage: npx tsx bench/pipeline/run.ts [--seconds <n>] [--search-seconds <n>] [--start-rate <n>] [--max-steps <n>] [--lag-bound-ms <n>] [--poll-ms <n>]
  --seconds         length of the headline run at the highest bounded rate (default $BENCH_SECONDS or 60)
  --search-seconds  length of each run of the rate search (default 10)
  --start-rate      first rate tried, VAUs/s; each next step doubles it (default 25)
  --max-steps       most rates tried (default 5)
  --lag-bound-ms    p95 lag (edge 200 -> balance) above which a rate counts as unbounded (default 5000)
  --poll-ms         how often balances are read (default 100)`;

const WALLETS = 400;
const DEVICES_PER_WALLET = 4;
/** After sending stops, how long the last credits may take before the rest count as lost. */
const DRAIN_MS = 30_000;
/** Headline runs at half the rate after an unbounded one. */
const HEADLINE_RETRIES = 2;

function options() {
  const { values } = parseCommandLine({
    usage: USAGE,
    options: {
      seconds: { type: "string", default: process.env.BENCH_SECONDS ?? "60" },
      "search-seconds": { type: "string", default: "10" },
      "start-rate": { type: "string", default: "25" },
      "max-steps": { type: "string", default: "5" },
      "lag-bound-ms": { type: "string", default: "5000" },
      "poll-ms": { type: "string", default: "100" },
    },
  });
  const o = {
    seconds: Number(values.seconds),
    searchSeconds: Number(values["search-seconds"]),
    startRate: Number(values["start-rate"]),
    maxSteps: Number(values["max-steps"]),
    lagBoundMs: Number(values["lag-bound-ms"]),
    pollMs: Number(values["poll-ms"]),
  };
  try {
    for (const [flag, v] of Object.entries(o))
      if (!(v > 0) || !Number.isFinite(v)) usageError(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive number`, USAGE);
  } catch (err) {
    exitOnUsageError(err);
  }
  return o;
}

interface Wallet {
  address: string;
  auth: string;
  next: number;
  /** Every 200 of the edge for this wallet, in order: when, and the balance it must lead to. */
  accepted: { at: number; cumulative: bigint }[];
  expected: bigint;
  /** Index of the first accepted VAU not yet seen in the balance. */
  seen: number;
}

interface Counters {
  accepted: number;
  rejected: number;
  firstRejection?: string;
}

interface RunResult {
  rate: number;
  sentPerSecond: number;
  accepted: number;
  rejected: number;
  firstRejection?: string;
  lags: number[];
  lost: number;
  doubled: number;
  drained: boolean;
}

async function main(): Promise<void> {
  const o = options();
  buildBundles();
  const db = await createTestDatabase("bench_pipeline");
  const prefix = testRedisPrefix("bench-pipeline");
  const [edgePort, authPort, influencerPort] = [await freePort(), await freePort(), await freePort()];
  const platform = await startPlatform({
    databaseUrl: db.url,
    redisUrl: TEST_REDIS_URL,
    redisPrefix: prefix,
    ports: { edge: edgePort, auth: authPort, influencer: influencerPort },
    merchantDomains: ["shop.example"],
    edgeConsumerBatchTimeoutSeconds: 1,
    env: { LOG_LEVEL: "warn" },
  });
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  try {
    const jwtKeys = parseJwtKeySet(platform.keys.JWT_KEYS);
    const vauKey = platform.keys.VAU_SIGNING_KEYS.split(",")[0]!;
    const wallets: Wallet[] = await Promise.all(
      Array.from({ length: WALLETS }, async () => {
        const address = bs58.encode(randomBytes(32));
        return { address, auth: `Bearer ${(await signIdentityToken(address, jwtKeys, { ttlSeconds: 900 })).token}`, next: 0, accepted: [], expected: 0n, seen: 0 };
      }),
    );
    let sequence = 0;
    let lastTimestamp = 0;

    const sendOne = async (w: Wallet, counters: Counters) => {
      const device = `bench-device-${w.address.slice(0, 8)}-${w.next++ % DEVICES_PER_WALLET}`;
      lastTimestamp = Math.max(Date.now() - 1000, lastTimestamp + 1); // distinct timestamps: distinct vauIds
      const body = JSON.stringify({ deviceId: device, siteId: "bench.example", timestamp: lastTimestamp, activeMs: 30_000 });
      const res = await send(`${platform.urls.edge}/api/v1/vau`, {
        method: "POST",
        headers: { authorization: w.auth, "content-type": "application/json", ...(await signedHeaders("POST", "/api/v1/vau", body, vauKey)) },
        body,
      });
      const answer = JSON.parse(res.text) as { earned?: string };
      if (res.status !== 200) {
        counters.rejected++;
        counters.firstRejection ??= `${res.status} ${JSON.stringify(answer).slice(0, 160)}`;
        return;
      }
      counters.accepted++;
      const earned = BigInt(answer.earned ?? "0");
      if (earned === 0n) return; // nothing to see in the balance
      w.expected += earned;
      w.accepted.push({ at: performance.now(), cumulative: w.expected });
    };

    const balances = async () => {
      const { rows } = await pg.query<{ owner_wallet: string; balance: string }>(
        `SELECT owner_wallet, balance::text AS balance FROM ledger_accounts WHERE kind = 'available' AND owner_wallet = ANY($1::text[])`,
        [wallets.map((w) => w.address)],
      );
      return new Map(rows.map((r) => [r.owner_wallet, BigInt(r.balance)]));
    };

    async function run(rate: number, seconds: number): Promise<RunResult> {
      for (const w of wallets) {
        w.accepted = [];
        w.seen = 0;
      }
      const base = await balances();
      const startBalance = new Map(wallets.map((w) => [w.address, base.get(w.address) ?? 0n]));
      for (const w of wallets) w.expected = startBalance.get(w.address)!;
      const counters: Counters = { accepted: 0, rejected: 0 };
      const lags: number[] = [];
      const observe = async () => {
        const now = performance.now();
        const current = await balances();
        for (const w of wallets) {
          const balance = current.get(w.address) ?? 0n;
          while (w.seen < w.accepted.length && balance >= w.accepted[w.seen]!.cumulative) lags.push(now - w.accepted[w.seen++]!.at);
        }
        return current;
      };
      const started = performance.now();
      const end = started + seconds * 1000;
      const inFlight = new Set<Promise<void>>();
      let sent = 0;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          await observe();
          await new Promise((r) => setTimeout(r, o.pollMs));
        }
      })();
      // Open loop: each tick sends what the rate says is due, whatever the answers' latency.
      while (performance.now() < end) {
        const due = Math.floor(((performance.now() - started) / 1000) * rate) - sent;
        for (let i = 0; i < due; i++) {
          const p = sendOne(wallets[sequence++ % wallets.length]!, counters).catch((err: Error) => {
            counters.rejected++;
            counters.firstRejection ??= `${err.message}${err.cause ? ` (${String((err.cause as Error).message ?? err.cause)})` : ""}`;
          });
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
          sent++;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      const sendSeconds = (performance.now() - started) / 1000;
      await Promise.all(inFlight);
      const drainUntil = performance.now() + DRAIN_MS;
      while (wallets.some((w) => w.seen < w.accepted.length) && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, o.pollMs));
      polling = false;
      await poller;
      // Settled: every wallet's balance must be exactly what the edge's answers add up to.
      const final = await observe();
      const lost = wallets.reduce((n, w) => n + (w.accepted.length - w.seen), 0);
      const doubled = wallets.filter((w) => (final.get(w.address) ?? 0n) > w.expected).length;
      lags.sort((a, b) => a - b);
      return {
        rate,
        sentPerSecond: sent / sendSeconds,
        accepted: counters.accepted,
        rejected: counters.rejected,
        firstRejection: counters.firstRejection,
        lags,
        lost,
        doubled,
        drained: lost === 0,
      };
    }

    const bounded = (r: RunResult) => r.drained && r.doubled === 0 && r.rejected === 0 && r.sentPerSecond >= 0.9 * r.rate && percentile(r.lags, 95) <= o.lagBoundMs;
    const show = (label: string, r: RunResult) =>
      console.log(
        `${label.padEnd(10)} rate ${String(r.rate).padStart(5)}/s  sent ${r.sentPerSecond.toFixed(0).padStart(5)}/s  accepted ${r.accepted}  rejected ${r.rejected}  lag p50 ${percentile(r.lags, 50).toFixed(0)} ms p95 ${percentile(r.lags, 95).toFixed(0)} ms  lost ${r.lost} doubled ${r.doubled}  ${bounded(r) ? "bounded" : "UNBOUNDED"}${r.firstRejection ? `  (first refusal: ${r.firstRejection})` : ""}`,
      );

    console.log(
      `rate search: ${o.searchSeconds} s per rate, doubling from ${o.startRate}/s, at most ${o.maxSteps} rates; bounded = drained, nothing lost, doubled or refused, >= 90 % of the rate sent, p95 lag <= ${o.lagBoundMs} ms`,
    );
    let best: number | null = null;
    for (let step = 0, rate = o.startRate; step < o.maxSteps; step++, rate *= 2) {
      const r = await run(rate, o.searchSeconds);
      show("search", r);
      if (!bounded(r)) break;
      best = rate;
    }
    // A short run can be bounded where a long one is not (the lag grows slowly): the headline runs
    // for --seconds at the search's best rate, and at half that rate again while it is unbounded.
    let headlineRate = best ?? o.startRate;
    let headline = await run(headlineRate, o.seconds);
    show("headline", headline);
    for (let step = 0; step < HEADLINE_RETRIES && !bounded(headline) && headlineRate / 2 >= 1; step++) {
      headlineRate = Math.floor(headlineRate / 2);
      headline = await run(headlineRate, o.seconds);
      show("headline", headline);
    }
    const sustained = headline.accepted / o.seconds;
    const held = bounded(headline) ? `${headlineRate}/s` : `none (even ${headlineRate}/s was unbounded over ${o.seconds} s)`;
    console.log(
      `pipeline: ${sustained.toFixed(0)} VAUs/s sustained for ${o.seconds} s (edge 200 -> queue -> consumer -> POST /internal/v1/rewards -> ledger); lag p50 ${percentile(headline.lags, 50).toFixed(0)} ms, p95 ${percentile(headline.lags, 95).toFixed(0)} ms; credits lost ${headline.lost}, doubled ${headline.doubled}; highest rate bounded in ${o.searchSeconds} s ${best === null ? `none (even ${o.startRate}/s was unbounded)` : `${best}/s`}, over ${o.seconds} s ${held}`,
    );
    report("pipeline", [
      {
        metric: `VAUs edge -> ledger at ${headlineRate}/s for ${o.seconds} s (lag edge 200 -> balance)`,
        perSecond: sustained,
        p50Ms: percentile(headline.lags, 50),
        p95Ms: percentile(headline.lags, 95),
        p99Ms: percentile(headline.lags, 99),
        note: `lost ${headline.lost}, doubled ${headline.doubled}; highest rate with p95 lag <= ${o.lagBoundMs} ms: ${best === null ? "none" : `${best}/s`} over ${o.searchSeconds} s, ${held} over ${o.seconds} s`,
      },
    ]);
    if (headline.lost || headline.doubled) process.exitCode = 1;
  } finally {
    await pg.end();
    await platform.stop();
    await db.drop();
    await deleteRedisPrefix(prefix);
  }
}

runBench(main);
