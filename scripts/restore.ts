// Restores a Postgres backup from the backup bucket into an empty database and verifies it
// (docs/runbooks/restore.md):
//
//   npm run restore -- --from <object key|latest> --to <database url> [--force] [--json]
//
// The bucket and keys come from the environment, validated first: BACKUP_S3_ENDPOINT,
// BACKUP_BUCKET, BACKUP_PREFIX (default postgres/), BACKUP_S3_ACCESS_KEY_ID,
// BACKUP_S3_SECRET_ACCESS_KEY, BACKUP_ENCRYPTION_KEYS, optionally PG_BIN_DIR.
// Exit 0: restored and verified. 1: nothing restored (missing, corrupted or undecryptable object,
// non-empty target without --force, tool failure), or restored but verification found problems.
// 2: usage.
import { ConfigError } from "@twist/shared/config";
import { BackupStore, bucketSettings, loadBucketConfig, restoreBackup, type RestoreResult } from "../runtime/influencer/src/backup";
import { exitOnUsageError, parseCommandLine, usageError } from "./lib/cli";

const USAGE = `usage: npm run restore -- --from <object key|latest> --to <database url> [--force] [--json]
  --from   the backup object's key in the bucket, or "latest"
  --to     postgres:// URL of the target database; it must exist and be empty
  --force  restore over a database that has tables (the backup's objects are dropped and replaced)
  --json   print the report as JSON
environment: BACKUP_S3_ENDPOINT, BACKUP_BUCKET, BACKUP_PREFIX, BACKUP_S3_ACCESS_KEY_ID,
  BACKUP_S3_SECRET_ACCESS_KEY, BACKUP_ENCRYPTION_KEYS (kid:<base64 32 bytes>[,...]), PG_BIN_DIR`;

function describe(result: RestoreResult): string {
  const v = result.verification;
  const ms = (n: number) => `${Math.round(n)} ms`;
  return [
    `restored ${result.key} (${result.objectBytes} bytes, key id ${result.kid})`,
    `  download ${ms(result.timings.downloadMs)}, decrypt ${ms(result.timings.decryptMs)}, restore ${ms(result.timings.restoreMs)}, verify ${ms(result.timings.verifyMs)}`,
    `migrations: ${v.migrations.applied.length} applied, expected up to ${v.migrations.expected}${v.migrations.missing.length || v.migrations.unknown.length ? "" : " (current)"}`,
    `ledger: balances sum to ${v.invariants.sum}, ${v.invariants.negativeUserAccounts.length} negative user accounts, ${v.invariants.driftedAccounts.length} drifted accounts`,
    "rows per table:",
    ...Object.entries(v.rowCounts).map(([table, n]) => `  ${table.padEnd(32)} ${n}`),
    v.problems.length ? `VERIFICATION FAILED:\n${v.problems.map((p) => `  - ${p}`).join("\n")}` : "verification passed",
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseCommandLine({
    usage: USAGE,
    options: { from: { type: "string" }, to: { type: "string" }, force: { type: "boolean" }, json: { type: "boolean" } },
  });
  if (!values.from) usageError("--from is required", USAGE);
  if (!values.to) usageError("--to is required", USAGE);
  if (!/^postgres(ql)?:\/\//.test(values.to)) usageError("--to must be a postgres:// URL", USAGE);

  let config: ReturnType<typeof loadBucketConfig>;
  try {
    config = loadBucketConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(1);
  }
  const store = new BackupStore(bucketSettings(config));
  try {
    const result = await restoreBackup({ store, keys: config.BACKUP_ENCRYPTION_KEYS, from: values.from, to: values.to, force: values.force ?? false, binDir: config.PG_BIN_DIR });
    const replacer = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);
    process.stdout.write(`${values.json ? JSON.stringify(result, replacer, 2) : describe(result)}\n`);
    process.exitCode = result.verification.problems.length ? 1 : 0;
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    store.close();
  }
}

void main().catch(exitOnUsageError);
