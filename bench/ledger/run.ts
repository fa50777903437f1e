// The backend's money paths against the machine's Postgres limit, in one run, at each concurrency:
//   - pgbench simple-update on a throwaway database (the limit: one short write transaction), run
//     before and after the paths, the mean taken;
//   - reward credits through signed POST /internal/v1/rewards, 100 messages per delivery (credits/s);
//   - stakes through POST /api/v1/pools/:id/stake to one pool, and spread over 100 pools;
//   - transfers straight through the ledger module (distinct wallets);
// each printed as a ratio to pgbench's tps, then one commission distributed to --stakers stakers.
// The HTTP paths are served by the production bundle (dist/influencer/main.js) in its own process,
// as pgbench's client and server are two processes: the load generator here never shares the
// server's event loop, and sends on node:http keep-alive connections (bench/lib/http: fetch cost
// the shared cores several times the CPU). This process seeds, runs the ledger module path and the distribution (real
// Postgres and Redis, its own database and key prefix, removed at the end); every request started
// is awaited before a figure is taken. Each path first runs
// unmeasured for WARM_UP_SECONDS (JIT, connection pool, the credit path's recipients created),
// as the other benches warm up before they measure.
//   npx tsx bench/ledger/run.ts [--seconds 10] [--concurrency 8,32] [--stakers 10000]
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { join } from "node:path";
import bs58 from "bs58";
import { signIdentityToken } from "@twist/shared/jwt";
import { createLogger } from "@twist/shared/logger";
import { signedHeaders } from "@twist/shared/signed-request";
import type { RewardMessageV1 } from "@twist/shared/messages";
import { createTestDatabase } from "../../test/support/postgres";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../../test/support/redis";
import { freePort } from "../../test/support/ports";
import { createApp } from "../../runtime/influencer/src/app";
import { loadInfluencerConfig } from "../../runtime/influencer/src/config";
import { createSequelize } from "../../runtime/influencer/src/db";
import { runMigrations } from "../../runtime/influencer/src/migrations";
import { account, checkLedgerInvariants, Ledger, type TransferInput } from "../../runtime/influencer/src/ledger";
import { exitOnUsageError, parseCommandLine, usageError } from "../../scripts/lib/cli";
import { send } from "../lib/http";
import { closedLoop, integerList, type LoadResult } from "../lib/load";
import { pgbenchSimpleUpdate } from "../lib/pgbench";
import { runBench } from "../lib/main";
import { buildBundles, ROOT, waitReady } from "../lib/service";
import { peakRssMiB, report } from "../report";

const USAGE = `usage: npx tsx bench/ledger/run.ts [--seconds <n>] [--concurrency <n,n,...>] [--stakers <n>]
  --seconds      length of each measured run, after 5 s of warm-up (default $BENCH_SECONDS or 10)
  --concurrency  client counts to measure every path at (default 8,32)
  --stakers      stakers of the one distributed commission (default 10000)`;

const SERVICE_KEY = "bench-service-key-00000000001";
const BATCH = 100;
const USERS = 64;
const POOLS = 100;
const WARM_UP_SECONDS = 5;

const wallet = () => bs58.encode(randomBytes(32));

function options() {
  const { values } = parseCommandLine({
    usage: USAGE,
    options: {
      seconds: { type: "string", default: process.env.BENCH_SECONDS ?? "10" },
      concurrency: { type: "string", default: "8,32" },
      stakers: { type: "string", default: "10000" },
    },
  });
  try {
    const seconds = Number(values.seconds);
    const stakers = Number(values.stakers);
    if (!(seconds > 0)) usageError("--seconds must be a positive number", USAGE);
    if (!Number.isInteger(stakers) || stakers < 1) usageError("--stakers must be a positive integer", USAGE);
    return { seconds, stakers, levels: integerList("concurrency", values.concurrency!, USAGE) };
  } catch (err) {
    exitOnUsageError(err);
    throw err;
  }
}

async function main(): Promise<void> {
  const { seconds, stakers: STAKERS, levels } = options();
  buildBundles("influencer");
  const db = await createTestDatabase("bench_ledger");
  const prefix = testRedisPrefix("bench-ledger");
  const setup = createSequelize(db.url, { poolMax: 2 });
  await runMigrations(setup);
  await setup.close();
  const env = {
    LOG_LEVEL: "silent",
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_KEYS: "bench:bench-jwt-secret-0000000000001",
    SERVICE_SIGNING_KEYS: SERVICE_KEY,
    MERCHANT_SIGNING_KEYS: "bench-merchant-key-0000000001",
    IP_HASH_SALT: "bench-ip-hash-salt-0001",
    MERCHANT_DOMAINS: "shop.example.com",
    PUBLIC_BASE_URL: "http://localhost",
    // Throughput, not abuse: the per-wallet write limit would turn most stakes into 429s.
    STAKE_LIMIT_PER_WINDOW: "1000000",
  };
  const config = loadInfluencerConfig(env);
  const service = createApp(config, { logger: createLogger("bench", { level: "silent" }) });
  const seq = service.context.sequelize;
  const ledger = new Ledger(seq);
  const port = await freePort();
  const api = spawn(process.execPath, [join(ROOT, "dist", "influencer", "main.js")], {
    env: { PATH: process.env.PATH ?? "", ...env, LOG_LEVEL: "warn", PORT: String(port), METRICS_PORT: String(await freePort()) },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitReady(`${base}/ready`);
    // 100 influencers with a pool each; USERS funded wallets with tokens.
    const poolIds: string[] = [];
    const infIds: string[] = [];
    for (let i = 0; i < POOLS; i++) {
      const [[user]] = (await seq.query(`INSERT INTO users (wallet_address) VALUES ($1) RETURNING id`, { bind: [wallet()] })) as [{ id: string }[], unknown];
      const [[inf]] = (await seq.query(`INSERT INTO influencers (user_id, username, display_name, email) VALUES ($1, $2, 'Bench', $3) RETURNING id`, {
        bind: [user!.id, `benchinf${i}`, `b${i}@example.com`],
      })) as [{ id: string }[], unknown];
      const [[pool]] = (await seq.query(`INSERT INTO pools (influencer_id, name, revenue_share_bps, min_stake) VALUES ($1, $2, 5000, 1) RETURNING id`, {
        bind: [inf!.id, `bench pool ${i}`],
      })) as [{ id: string }[], unknown];
      infIds.push(inf!.id);
      poolIds.push(pool!.id);
    }
    const users = await Promise.all(
      Array.from({ length: USERS }, async () => {
        const w = wallet();
        return { wallet: w, token: (await signIdentityToken(w, config.JWT_KEYS)).token };
      }),
    );
    await ledger.transaction((t) =>
      ledger.post(
        t,
        users.map((u) => ({ id: `fund:${u.wallet}`, from: account.system("rewards"), to: account.available(u.wallet), amount: 10n ** 15n, kind: "reward" })),
      ),
    );
    const recipients = Array.from({ length: 5_000 }, wallet);

    const credit = async (): Promise<number> => {
      const now = new Date().toISOString();
      const messages: RewardMessageV1[] = Array.from({ length: BATCH }, () => ({
        v: 1,
        type: "vau.reward",
        id: `vau_${randomUUID().replace(/-/g, "")}`,
        walletAddress: recipients[Math.floor(Math.random() * recipients.length)]!,
        deviceId: "bench-device",
        siteId: "bench.example",
        earned: "1",
        trustScore: 0.9,
        occurredAt: now,
        receivedAt: now,
      }));
      const raw = JSON.stringify({ messages });
      const res = await send(`${base}/internal/v1/rewards`, {
        method: "POST",
        headers: { ...(await signedHeaders("POST", "/internal/v1/rewards", raw, SERVICE_KEY)), "content-type": "application/json" },
        body: raw,
      });
      if (res.status !== 200) throw new Error(`rewards answered ${res.status}`);
      const { results } = JSON.parse(res.text) as { results: { status: string }[] };
      const credited = results.filter((r) => r.status === "credited").length;
      if (credited !== BATCH) throw new Error(`only ${credited} of ${BATCH} credited`);
      return credited;
    };
    const stake =
      (poolOf: (worker: number) => string) =>
      async (worker: number, n: number): Promise<number> => {
        const u = users[(worker + n * 7) % users.length]!;
        const res = await send(`${base}/api/v1/pools/${poolOf(worker)}/stake`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${u.token}`, "idempotency-key": `bench-${randomUUID()}` },
          body: JSON.stringify({ amount: "1000" }),
        });
        if (res.status !== 200) throw new Error(`stake answered ${res.status}`);
        return 1;
      };
    const direct = async (worker: number): Promise<number> => {
      const u = users[worker % users.length]!;
      await ledger.transaction((t) =>
        ledger.transfer(t, { id: `direct:${randomUUID()}`, from: account.available(u.wallet), to: account.payoutPending(u.wallet), amount: 1n, kind: "bench" }),
      );
      return 1;
    };

    const paths: { name: string; unit: string; step: (worker: number, n: number) => Promise<number> }[] = [
      { name: `reward credits (signed POST /internal/v1/rewards, ${BATCH} per delivery)`, unit: "credits", step: credit },
      { name: "stakes to one pool (HTTP)", unit: "stakes", step: stake(() => poolIds[0]!) },
      { name: `stakes spread over ${POOLS} pools (HTTP)`, unit: "stakes", step: stake((worker) => poolIds[worker % POOLS]!) },
      { name: "ledger module transfers (distinct wallets)", unit: "transfers", step: direct },
    ];
    const show = (name: string, r: LoadResult, unit: string, limit: number) =>
      console.log(
        `  ${name.padEnd(68)} ${r.perSecond.toFixed(0).padStart(7)} ${unit}/s  = ${(r.perSecond / limit).toFixed(2)} x pgbench   p50 ${r.p50Ms.toFixed(1)} p95 ${r.p95Ms.toFixed(1)} p99 ${r.p99Ms.toFixed(1)} ms${r.errors ? `   ${r.errors} errors (${r.firstError})` : ""}`,
      );

    for (const concurrency of levels) {
      console.log(`\n${concurrency} clients, ${seconds} s each`);
      // pgbench before and after the paths, the limit their mean: its tps follows the disk's fsync
      // latency, which drifts within minutes here, while the paths are bound by CPU.
      const before = await pgbenchSimpleUpdate(concurrency, seconds);
      const measured = new Map<string, LoadResult>();
      for (const p of paths) {
        await closedLoop({ concurrency, seconds: WARM_UP_SECONDS, step: p.step });
        measured.set(p.name, await closedLoop({ concurrency, seconds, step: p.step }));
      }
      const after = await pgbenchSimpleUpdate(concurrency, seconds);
      const limit = { tps: (before.tps + after.tps) / 2, latencyMs: (before.latencyMs + after.latencyMs) / 2 };
      console.log(
        `  ${"pgbench simple-update (the limit: mean of before and after)".padEnd(68)} ${limit.tps.toFixed(0).padStart(7)} tps        before ${before.tps.toFixed(0)}, after ${after.tps.toFixed(0)}; latency average ${limit.latencyMs.toFixed(1)} ms`,
      );
      report("ledger", [
        {
          metric: `pgbench simple-update, ${concurrency} clients (the limit)`,
          perSecond: limit.tps,
          note: `mean of ${before.tps.toFixed(0)} before and ${after.tps.toFixed(0)} after the paths`,
          chart: { path: "pgbench simple-update (limit)", concurrency },
        },
      ]);
      for (const p of paths) {
        const r = measured.get(p.name)!;
        show(p.name, r, p.unit, limit.tps);
        report("ledger", [
          {
            metric: `${p.name}, ${concurrency} clients`,
            perSecond: r.perSecond,
            p50Ms: r.p50Ms,
            p95Ms: r.p95Ms,
            p99Ms: r.p99Ms,
            note: `${(r.perSecond / limit.tps).toFixed(2)} x pgbench tps${r.errors ? `; ${r.errors} errors` : ""}`,
            chart: { path: p.name, concurrency },
          },
        ]);
      }
      const credits = measured.get(paths[0]!.name)!.perSecond / limit.tps;
      const onePool = measured.get(paths[1]!.name)!.perSecond;
      const spread = measured.get(paths[2]!.name)!.perSecond;
      console.log(
        `  targets: credits ${credits.toFixed(2)} x pgbench (>= 5: ${credits >= 5 ? "met" : "NOT met"}); one pool ${(onePool / spread).toFixed(2)} of spread (>= 0.5: ${onePool / spread >= 0.5 ? "met" : "NOT met"})`,
      );
    }

    // One commission to STAKERS stakers of pool 0 (positions seeded through the ledger, shards to match).
    const stakers = Array.from({ length: STAKERS }, (_, i) => ({ wallet: wallet(), amount: BigInt(1 + (i % 97)) * 10n ** 9n }));
    for (let i = 0; i < stakers.length; i += 2000) {
      const chunk = stakers.slice(i, i + 2000);
      await ledger.transaction((t) =>
        ledger.post(
          t,
          chunk.map((s): TransferInput => ({ id: `seed:${s.wallet}`, from: account.system("rewards"), to: account.stake(s.wallet, poolIds[0]!), amount: s.amount, kind: "bench" })),
        ),
      );
    }
    // Seeded behind the API's back: recount pool 0's shards from its stake accounts (as migration 0102 does).
    await seq.query(`DELETE FROM pool_stake_shards WHERE pool_id = $1`, { bind: [poolIds[0]] });
    await seq.query(
      `INSERT INTO pool_stake_shards (pool_id, shard, total_staked, staker_count)
       SELECT ref::uuid, hashtext(owner_wallet) & 15, SUM(balance), COUNT(*) FILTER (WHERE balance > 0) FROM ledger_accounts WHERE kind = 'stake' AND ref = $1::text GROUP BY 1, 2`,
      { bind: [poolIds[0]] },
    );
    const started = performance.now();
    await seq.transaction((t) =>
      service.context.onCommissionBooked!(t, {
        conversionId: randomUUID(),
        orderId: "bench",
        influencerId: infIds[0]!,
        linkId: randomUUID(),
        commission: 123_456_789_012_345n,
        currency: "TWIST",
      }),
    );
    const ms = performance.now() - started;
    const [{ n: positions }] = (await seq.query(`SELECT count(*)::int AS n FROM ledger_accounts WHERE kind = 'stake' AND ref = $1 AND balance > 0`, { bind: [poolIds[0]] }))[0] as [
      { n: number },
    ];
    // The API and the ledger module run in this process, so its high-water mark is theirs.
    report("ledger", [{ metric: `distribute one commission to ${positions} stakers`, peakRssMiB: peakRssMiB(process.pid), note: `${ms.toFixed(0)} ms, one transaction` }]);
    console.log(`\ndistribution: one commission to ${positions} stakers in ${ms.toFixed(0)} ms (one transaction, ${positions + 1} transfers)`);

    const invariants = await checkLedgerInvariants(seq);
    console.log(
      `ledger invariants after the run: ${invariants.violations.length ? invariants.violations.join("; ") : "hold (sum 0, no negative user account, no drift, pool shards exact)"}`,
    );
    if (invariants.violations.length) process.exitCode = 1;
  } finally {
    if (api.exitCode === null) {
      api.kill("SIGTERM");
      await once(api, "exit");
    }
    await service.close();
    await db.drop();
    await deleteRedisPrefix(prefix);
  }
}

runBench(main);
