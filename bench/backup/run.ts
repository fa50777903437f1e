// Backup and restore figures: (1) a database seeded through the real API flows, (2) the same plus
// N ledger transfers (default 1,000,000) written by SQL on the ledger's tables. For each: backup
// time and object size through the job's own code (pg_dump -> AES-256-GCM -> S3 upload to s3rver,
// the local TEST DOUBLE of R2), restore time through `npm run restore`'s code (download, decrypt,
// pg_restore, verification), and, in the same run, plain pg_dump / pg_restore on local files as the
// baseline the ratios compare against. Uses its own databases and Redis prefix and removes them.
//   npx tsx bench/backup/run.ts [--transfers 1000000] [--accounts 1000]
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { randomBytes } from "node:crypto";
import { parseBackupKeySet } from "@twist/shared/keys";
import { BackupStore, restoreBackup, takeBackup } from "../../runtime/influencer/src/backup";
import { pgDump, pgRestore } from "../../runtime/influencer/src/backup/postgres-tools";
import { account, Ledger } from "../../runtime/influencer/src/ledger";
import { seedThroughApi, SEED_ENV } from "../../runtime/influencer/test/backup-seed";
import { newWallet, startHarness } from "../../runtime/influencer/test/harness";
import { createTestDatabase } from "../../test/support/postgres";
import { startLocalS3 } from "../../test/support/s3-server";
import { parseCommandLine, usageError } from "../../scripts/lib/cli";
import { report, type Figure } from "../report";

const USAGE = `usage: npx tsx bench/backup/run.ts [--transfers <n>] [--accounts <n>]
  --transfers  ledger transfers added for the large case (default 1000000)
  --accounts   user accounts those transfers credit (default 1000)`;
const { values } = parseCommandLine({ usage: USAGE, options: { transfers: { type: "string" }, accounts: { type: "string" } } });
const count = (v: string | undefined, fallback: number, flag: string) => {
  if (v === undefined) return fallback;
  if (!/^[1-9]\d{0,8}$/.test(v)) usageError(`${flag} must be a positive integer`, USAGE);
  return Number(v);
};
const TRANSFERS = count(values.transfers, 1_000_000, "--transfers");
const ACCOUNTS = count(values.accounts, 1000, "--accounts");

const ms = (n: number) => `${Math.round(n)} ms`;
const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;

/** Seconds of a plain pg_dump (custom format) to a local file, and its size: the baseline. */
async function plainDump(url: string, file: string): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const dump = pgDump(url);
  await Promise.all([pipeline(dump.stdout, createWriteStream(file)), dump.done]);
  return { ms: performance.now() - t, bytes: (await stat(file)).size };
}

async function plainRestore(file: string): Promise<number> {
  const db = await createTestDatabase("bench_plain_restore");
  try {
    const t = performance.now();
    await pgRestore(file, db.url, { clean: false });
    return performance.now() - t;
  } finally {
    await db.drop();
  }
}

/** N transfers from system:rewards to ACCOUNTS user accounts, written as the ledger stores them, balances set to match. */
async function addTransfers(h: Awaited<ReturnType<typeof startHarness>>): Promise<void> {
  const seq = h.service.context.sequelize;
  const ledger = new Ledger(seq);
  // Accounts are created by the ledger module itself (one real transfer each).
  const wallets = Array.from({ length: ACCOUNTS }, newWallet);
  for (const w of wallets) {
    await ledger.transaction((t) =>
      ledger.transfer(t, { id: `bench-open:${w}`, from: account.system("rewards"), to: account.available(w), amount: 1n, kind: "reward", reference: null }),
    );
  }
  await seq.query(
    `
    WITH src AS (SELECT id FROM ledger_accounts WHERE key = :system),
         dst AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM ledger_accounts WHERE key IN (:keys))
    INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, kind, reference)
    SELECT 'bench:' || g, (SELECT id FROM src), dst.id, 1 + (g % 997), 'reward', NULL
    FROM generate_series(1, :n) g JOIN dst ON dst.n = g % :accounts`,
    { replacements: { system: account.system("rewards").key, keys: wallets.map((w) => account.available(w).key), n: TRANSFERS, accounts: ACCOUNTS } },
  );
  await seq.query(`
    UPDATE ledger_accounts a SET balance = COALESCE(c.s, 0) - COALESCE(d.s, 0)
    FROM ledger_accounts x
    LEFT JOIN (SELECT credit_account_id AS id, SUM(amount) AS s FROM ledger_transfers GROUP BY 1) c ON c.id = x.id
    LEFT JOIN (SELECT debit_account_id AS id, SUM(amount) AS s FROM ledger_transfers GROUP BY 1) d ON d.id = x.id
    WHERE a.id = x.id AND a.balance <> COALESCE(c.s, 0) - COALESCE(d.s, 0)`);
}

async function measure(label: string, h: Awaited<ReturnType<typeof startHarness>>, store: BackupStore, keys: ReturnType<typeof parseBackupKeySet>, work: string): Promise<Figure[]> {
  const [rows] = (await h.service.context.sequelize.query(`SELECT count(*)::int AS n FROM ledger_transfers`)) as [{ n: number }[], unknown];
  const transfers = rows[0]!.n;
  const plain = await plainDump(h.db.url, join(work, `${label}.dump`));
  const backup = await takeBackup({ databaseUrl: h.db.url, store, keys, keep: 100 });
  const plainRestoreMs = await plainRestore(join(work, `${label}.dump`));
  const target = await createTestDatabase("bench_restore");
  let restored: Awaited<ReturnType<typeof restoreBackup>>;
  try {
    restored = await restoreBackup({ store, keys, from: backup.key, to: target.url, force: false });
  } finally {
    await target.drop();
  }
  if (restored.verification.problems.length) throw new Error(`verification failed: ${restored.verification.problems.join("; ")}`);
  const t = restored.timings;
  const restoreMs = t.downloadMs + t.decryptMs + t.restoreMs + t.verifyMs;
  console.log(`${label} (${transfers} ledger transfers, ${Object.values(restored.verification.rowCounts).reduce((a, b) => a + b, 0)} rows):`);
  console.log(
    `  backup   ${ms(backup.durationMs)}  object ${mib(backup.size)}   plain pg_dump ${ms(plain.ms)} (${mib(plain.bytes)})   ratio ${(backup.durationMs / plain.ms).toFixed(2)}`,
  );
  console.log(
    `  restore  ${ms(restoreMs)}  (download ${ms(t.downloadMs)}, decrypt ${ms(t.decryptMs)}, pg_restore ${ms(t.restoreMs)}, verify ${ms(t.verifyMs)})   plain pg_restore ${ms(plainRestoreMs)}   ratio ${(restoreMs / plainRestoreMs).toFixed(2)}`,
  );
  return [
    { metric: `backup, ${label}`, note: `${ms(backup.durationMs)}, ${mib(backup.size)} encrypted; ${(backup.durationMs / plain.ms).toFixed(2)}× plain pg_dump (${ms(plain.ms)})` },
    {
      metric: `restore + verify, ${label}`,
      note: `${ms(restoreMs)} (pg_restore ${ms(t.restoreMs)}, verify ${ms(t.verifyMs)}); ${(restoreMs / plainRestoreMs).toFixed(2)}× plain pg_restore (${ms(plainRestoreMs)})`,
    },
  ];
}

async function main(): Promise<void> {
  const h = await startHarness("bench_backup", SEED_ENV);
  const s3 = await startLocalS3("twist-backups-bench");
  const store = new BackupStore({ endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, prefix: "postgres/" });
  const keys = parseBackupKeySet(`bench:${randomBytes(32).toString("base64")}`);
  const work = await mkdtemp(join(tmpdir(), "twist-bench-backup-"));
  try {
    let t = performance.now();
    const seeded = await seedThroughApi(h, { influencers: 5, usersPerPool: 10 });
    console.log(`seeded through the API: ${seeded.influencers} influencers, ${seeded.users} users, ${seeded.payouts.length} settled payouts in ${ms(performance.now() - t)}`);
    const figures = await measure("seeded data", h, store, keys, work);
    t = performance.now();
    await addTransfers(h);
    console.log(`added ${TRANSFERS} ledger transfers over ${ACCOUNTS} accounts in ${ms(performance.now() - t)}`);
    figures.push(...(await measure(`${TRANSFERS.toLocaleString("en-US")} ledger transfers`, h, store, keys, work)));
    report("backup", figures);
    console.log("RPO = backup interval (stack config, default 60 min) + the backup's own duration; RTO = the restore time above + the runbook's operator steps.");
  } finally {
    store.close();
    await rm(work, { recursive: true, force: true });
    await s3.stop();
    await h.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
