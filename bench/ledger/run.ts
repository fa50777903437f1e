// Ledger throughput: (1) transfers/s through the HTTP stake endpoint (real app in-process, JWT auth,
// Idempotency-Key, pool row + account locks), (2) transfers/s straight through the ledger module
// under concurrency, (3) time to distribute one commission to 10,000 stakers. Uses its own
// Postgres database and Redis prefix and removes both.
//   npx tsx bench/ledger/run.ts      (BENCH_SECONDS=10 BENCH_CONCURRENCY=32 BENCH_STAKERS=10000)
import { randomBytes, randomUUID } from "node:crypto";
import autocannon from "autocannon";
import bs58 from "bs58";
import { signIdentityToken } from "@twist/shared/jwt";
import { createLogger } from "@twist/shared/logger";
import { createTestDatabase } from "../../test/support/postgres";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../../test/support/redis";
import { createApp } from "../../runtime/influencer/src/app";
import { loadInfluencerConfig } from "../../runtime/influencer/src/config";
import { createSequelize } from "../../runtime/influencer/src/db";
import { runMigrations } from "../../runtime/influencer/src/migrations";
import { account, checkLedgerInvariants, Ledger, type TransferInput } from "../../runtime/influencer/src/ledger";
import { listen } from "@twist/service";
import { peakRssMiB, report } from "../report";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const STAKERS = Number(process.env.BENCH_STAKERS ?? 10_000);
const USERS = 64;

const wallet = () => bs58.encode(randomBytes(32));

async function main(): Promise<void> {
  const db = await createTestDatabase("bench_ledger");
  const prefix = testRedisPrefix("bench-ledger");
  const setup = createSequelize(db.url, { poolMax: 2 });
  await runMigrations(setup);
  await setup.close();
  const config = loadInfluencerConfig({
    LOG_LEVEL: "silent",
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_KEYS: "bench:bench-jwt-secret-0000000000001",
    SERVICE_SIGNING_KEYS: "bench-service-key-00000000001",
    MERCHANT_SIGNING_KEYS: "bench-merchant-key-0000000001",
    IP_HASH_SALT: "bench-ip-hash-salt-0001",
    MERCHANT_DOMAINS: "shop.example.com",
    PUBLIC_BASE_URL: "http://localhost",
    // Throughput, not abuse: the per-wallet write limit would turn most stakes into 429s.
    STAKE_LIMIT_PER_WINDOW: "1000000000",
  });
  const service = createApp(config, { logger: createLogger("bench", { level: "silent" }) });
  const seq = service.context.sequelize;
  const ledger = new Ledger(seq);
  const running = await listen(service.app, 0, "127.0.0.1");
  try {
    // An influencer with a pool, and USERS funded stakers with tokens.
    const influencerWallet = wallet();
    const [[user]] = (await seq.query(`INSERT INTO users (wallet_address) VALUES ('${influencerWallet}') RETURNING id`)) as [{ id: string }[], unknown];
    const [[inf]] = (await seq.query(
      `INSERT INTO influencers (user_id, username, display_name, email) VALUES ('${user!.id}', 'benchinf', 'Bench', 'b@example.com') RETURNING id`,
    )) as [{ id: string }[], unknown];
    const [[pool]] = (await seq.query(
      `INSERT INTO pools (influencer_id, name, revenue_share_bps, min_stake) VALUES ('${inf!.id}', 'bench pool', 5000, 1) RETURNING id`,
    )) as [{ id: string }[], unknown];
    const poolId = pool!.id;
    const users = await Promise.all(
      Array.from({ length: USERS }, async () => {
        const w = wallet();
        return { wallet: w, token: (await signIdentityToken(w, config.JWT_KEYS)).token };
      }),
    );
    await ledger.transaction((t) =>
      ledger.post(t, users.map((u) => ({ id: `fund:${u.wallet}`, from: account.system("rewards"), to: account.available(u.wallet), amount: 10n ** 15n, kind: "reward" }))),
    );

    // 1. HTTP stake endpoint.
    let n = 0;
    const result = await autocannon({
      url: `http://127.0.0.1:${running.port}`,
      connections: CONCURRENCY,
      duration: SECONDS,
      requests: [
        {
          method: "POST",
          path: `/api/v1/pools/${poolId}/stake`,
          setupRequest: (req) => {
            const u = users[n++ % users.length]!;
            return {
              ...req,
              headers: { ...req.headers, "content-type": "application/json", authorization: `Bearer ${u.token}`, "idempotency-key": `bench-${randomUUID()}` },
              body: JSON.stringify({ amount: "1000" }),
            };
          },
        },
      ],
    });
    const ok = result["2xx"];
    report("ledger", [
      {
        metric: `HTTP stake endpoint, ${CONCURRENCY} connections, one pool`,
        perSecond: ok / SECONDS,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        note: `${result.non2xx} non-2xx; stakes to one pool serialise on its row lock`,
      },
    ]);
    console.log(
      `HTTP stake endpoint: ${(ok / SECONDS).toFixed(0)} transfers/s (${ok} ok, ${result.non2xx} non-2xx, ${CONCURRENCY} connections, one pool), latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`,
    );

    // 2. Ledger module directly: CONCURRENCY workers moving available -> payout_pending of distinct wallets.
    let moved = 0;
    const deadline = performance.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, i) => {
        const u = users[i % users.length]!;
        while (performance.now() < deadline) {
          await ledger.transaction((t) =>
            ledger.transfer(t, { id: `direct:${randomUUID()}`, from: account.available(u.wallet), to: account.payoutPending(u.wallet), amount: 1n, kind: "bench" }),
          );
          moved++;
        }
      }),
    );
    report("ledger", [{ metric: `ledger module transfers, ${CONCURRENCY} concurrent transactions`, perSecond: moved / SECONDS }]);
    console.log(`ledger module: ${(moved / SECONDS).toFixed(0)} transfers/s (${CONCURRENCY} concurrent transactions, Sequelize pool of 10)`);

    // 3. One commission to STAKERS stakers.
    const stakers = Array.from({ length: STAKERS }, (_, i) => ({ wallet: wallet(), amount: BigInt(1 + (i % 97)) * 10n ** 9n }));
    for (let i = 0; i < stakers.length; i += 2000) {
      const chunk = stakers.slice(i, i + 2000);
      await ledger.transaction((t) =>
        ledger.post(t, chunk.map((s): TransferInput => ({ id: `seed:${s.wallet}`, from: account.system("rewards"), to: account.stake(s.wallet, poolId), amount: s.amount, kind: "bench" }))),
      );
    }
    const total = stakers.reduce((s, x) => s + x.amount, 0n);
    await seq.query(`UPDATE pools SET total_staked = total_staked + $1::numeric, staker_count = staker_count + $2 WHERE id = $3`, { bind: [total.toString(), STAKERS, poolId] });
    const started = performance.now();
    await seq.transaction((t) =>
      service.context.onCommissionBooked!(t, { conversionId: randomUUID(), orderId: "bench", influencerId: inf!.id, linkId: randomUUID(), commission: 123_456_789_012_345n, currency: "TWIST" }),
    );
    const ms = performance.now() - started;
    const stakerCount = (await seq.query(`SELECT count(*)::int AS n FROM ledger_accounts WHERE kind = 'stake' AND ref = $1 AND balance > 0`, { bind: [poolId] }))[0] as { n: number }[];
    // The API and the ledger module run in this process, so its high-water mark is theirs.
    report("ledger", [{ metric: `distribute one commission to ${stakerCount[0]!.n} stakers`, peakRssMiB: peakRssMiB(process.pid), note: `${ms.toFixed(0)} ms, one transaction` }]);
    console.log(`distribution: one commission to ${stakerCount[0]!.n} stakers in ${ms.toFixed(0)} ms (one transaction, ${stakerCount[0]!.n + 1} transfers)`);

    const invariants = await checkLedgerInvariants(seq);
    console.log(`ledger invariants after the run: ${invariants.violations.length ? invariants.violations.join("; ") : "hold (sum 0, no negative user account, no drift)"}`);
  } finally {
    await running.close();
    await service.close();
    await db.drop();
    await deleteRedisPrefix(prefix);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
