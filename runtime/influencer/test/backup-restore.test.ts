// The restore drill: a database seeded through the real API flows is backed up by the backup job's
// own code (pg_dump, AES-256-GCM, S3 upload) into s3rver (TEST DOUBLE at the R2 boundary), restored
// into a fresh database and compared table by table, row for row. Then each way a restore can go
// wrong (corrupted, truncated, wrong key, unknown key, missing object, non-empty target) must fail
// with a clear error and leave the target untouched, and a restored database missing a migration or
// with a tampered balance must fail the verification. `npm run restore` is run as a process for its
// usage, --force and exit codes. The job's schedule, metrics and failure paths run against a
// database port where nothing listens.
import { randomBytes } from "node:crypto";
import { execFile, spawn } from "node:child_process";
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import pg from "pg";
import { createLogger } from "@twist/shared/logger";
import { createTestDatabase, type TestDatabase } from "../../../test/support/postgres";
import { freePort } from "../../../test/support/ports";
import { startLocalS3, type LocalS3 } from "../../../test/support/s3-server";
import {
  BackupIntegrityError,
  BackupJob,
  BackupNotFoundError,
  BackupStore,
  nextRunAt,
  PUBLIC_TABLES_SQL,
  restoreBackup,
  RestoreRefusedError,
  takeBackup,
  loadBackupJobConfig,
} from "../src/backup";
import { parseBackupKeySet, type BackupKeySet } from "@twist/shared/keys";
import { migrations } from "../src/migrations";
import { seedThroughApi, SEED_ENV } from "./backup-seed";
import { startHarness, type Harness } from "./harness";

const run = promisify(execFile);
const logger = createLogger("backup-test", { level: "silent" });
const keyText = (kid: string) => `${kid}:${randomBytes(32).toString("base64")}`;
const KEYS_TEXT = `${keyText("bk-2026")},${keyText("bk-2025")}`;
const KEYS = parseBackupKeySet(KEYS_TEXT);

/** Every row of every public table, as text, in a stable order. */
async function snapshot(url: string): Promise<Record<string, string[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out: Record<string, string[]> = {};
    for (const { name } of (await client.query<{ name: string }>(PUBLIC_TABLES_SQL)).rows) {
      const { rows } = await client.query<{ r: string }>(`SELECT t::text AS r FROM "${name}" t ORDER BY 1`);
      out[name] = rows.map((x) => x.r);
    }
    return out;
  } finally {
    await client.end();
  }
}

async function tableCount(url: string): Promise<number> {
  return Object.keys(await snapshot(url)).length;
}

describe("backups: the restore drill", function () {
  this.timeout(120_000);
  let h: Harness;
  let s3: LocalS3;
  let store: BackupStore;
  const targets: TestDatabase[] = [];
  const freshTarget = async () => {
    const db = await createTestDatabase("restore_target");
    targets.push(db);
    return db;
  };

  before(async () => {
    h = await startHarness("backup_drill", SEED_ENV);
    s3 = await startLocalS3("twist-backups-test");
    store = new BackupStore({ endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, prefix: "postgres/" });
    await seedThroughApi(h);
  });
  after(async () => {
    store?.close();
    for (const db of targets) await db.drop();
    await s3?.stop();
    await h?.close();
  });

  const backup = (keys: BackupKeySet = KEYS, keep = 10) => takeBackup({ databaseUrl: h.db.url, store, keys, keep });
  const restore = (to: string, from = "latest", keys: BackupKeySet = KEYS, force = false) => restoreBackup({ store, keys, from, to, force });

  /** `npm run restore -- <args>` as a process, against s3rver: its exit code and output. */
  const cli = (args: string[], extraEnv: Record<string, string> = {}) => {
    const env = {
      ...process.env,
      BACKUP_S3_ENDPOINT: s3.endpoint,
      BACKUP_BUCKET: s3.bucket,
      BACKUP_S3_ACCESS_KEY_ID: s3.accessKeyId,
      BACKUP_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      BACKUP_ENCRYPTION_KEYS: KEYS_TEXT,
      ...extraEnv,
    };
    return run(process.execPath, ["--import", "tsx", "scripts/restore.ts", ...args], { env, cwd: join(__dirname, "../../.."), encoding: "utf8" }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  };

  it("seeds every kind of data through the API", async () => {
    const rows = await snapshot(h.db.url);
    for (const table of [
      "users",
      "influencers",
      "pools",
      "pool_distributions",
      "links",
      "clicks",
      "conversions",
      "payouts",
      "ledger_accounts",
      "ledger_transfers",
      "schema_migrations",
    ]) {
      expect(rows[table], table).to.be.an("array").that.is.not.empty;
    }
    const [payouts] = await h.service.context.sequelize.query(`SELECT DISTINCT status FROM payouts`);
    expect(payouts).to.deep.equal([{ status: "settled" }]);
  });

  it("backs up, restores into a fresh database, and every table matches row for row; the ledger invariants hold", async () => {
    const result = await backup();
    expect(result.key).to.match(/^postgres\/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.dump\.enc$/);
    expect(result.size).to.be.greaterThan(1000);
    const listed = await store.list();
    expect(listed.map((o) => o.key)).to.deep.equal([result.key]);
    expect(listed[0]!.size).to.equal(result.size);

    const target = await freshTarget();
    const restored = await restore(target.url);
    expect(restored.key).to.equal(result.key);
    expect(restored.kid).to.equal("bk-2026");
    expect(restored.verification.problems).to.deep.equal([]);
    expect(restored.verification.migrations.missing).to.deep.equal([]);
    expect(restored.verification.invariants.sum).to.equal(0n);

    const source = await snapshot(h.db.url);
    const copy = await snapshot(target.url);
    expect(Object.keys(copy)).to.deep.equal(Object.keys(source));
    for (const table of Object.keys(source)) expect(copy[table], table).to.deep.equal(source[table]);
    expect(restored.verification.rowCounts).to.deep.equal(Object.fromEntries(Object.entries(source).map(([t, r]) => [t, r.length])));
  });

  it("the bucket never sees plaintext: the object carries only the header and ciphertext", async () => {
    const latest = (await store.latest())!;
    const file = join(tmpdir(), `twist-backup-peek-${process.pid}`);
    await store.download(latest.key, file);
    const bytes = await readFile(file);
    expect(bytes.subarray(0, 8).toString("ascii")).to.equal("TWISTBK1");
    // pg_dump's custom format starts with "PGDMP"; table names would show in a plain archive.
    expect(bytes.includes(Buffer.from("PGDMP"))).to.equal(false);
    expect(bytes.includes(Buffer.from("ledger_transfers"))).to.equal(false);
  });

  it("a second and third backup keep the newest N; a backup under a rotated key restores with the old key still held", async () => {
    const before = (await store.list()).map((o) => o.key);
    // Rotate: the previous current key becomes the second entry.
    const rotated = parseBackupKeySet(`${keyText("bk-2027")},${KEYS_TEXT}`);
    const second = await takeBackup({ databaseUrl: h.db.url, store, keys: rotated, keep: 2 });
    const third = await takeBackup({ databaseUrl: h.db.url, store, keys: KEYS, keep: 2 });
    const after = (await store.list()).map((o) => o.key);
    expect(after).to.deep.equal([second.key, third.key]);
    expect(third.pruned).to.deep.equal(before);

    const target = await freshTarget();
    const restored = await restore(target.url, second.key, rotated);
    expect(restored.kid).to.equal("bk-2027");
    expect(restored.verification.problems).to.deep.equal([]);
  });

  it("refuses a non-empty target without --force and leaves it as it was; with force it replaces it", async () => {
    const target = await freshTarget();
    await restore(target.url);
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      await client.query(`CREATE TABLE operator_notes (note text)`);
      await client.query(`INSERT INTO operator_notes VALUES ('keep me')`);
      await client.query(`UPDATE pools SET name = 'tampered'`);
    } finally {
      await client.end();
    }
    const beforeRefusal = await snapshot(target.url);

    let refused: unknown;
    await restore(target.url).catch((err) => (refused = err));
    expect(refused).to.be.instanceOf(RestoreRefusedError);
    expect((refused as Error).message).to.match(/not empty.*--force/);
    expect(await snapshot(target.url)).to.deep.equal(beforeRefusal);

    const forced = await restore(target.url, "latest", KEYS, true);
    expect(forced.verification.problems).to.deep.equal([]);
    const after = await snapshot(target.url);
    expect(after.pools).to.deep.equal((await snapshot(h.db.url)).pools);
    expect(after.operator_notes).to.deep.equal(['("keep me")']);
  });

  it("npm run restore: restores the latest backup and prints the report; a usage mistake exits 2 naming it", async function () {
    this.timeout(240_000); // two TypeScript processes start on a loaded machine
    const { key } = await backup();
    const target = await freshTarget();
    const ok = await cli(["--from", "latest", "--to", target.url]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.contain(`restored ${key} (`);
    expect(ok.stdout).to.match(/^ledger: balances sum to 0, 0 negative user accounts, 0 drifted accounts$/m);
    expect(ok.stdout).to.match(/^ {2}ledger_transfers +[1-9]\d*$/m);
    expect(ok.stdout).to.match(/^verification passed$/m);
    const unknown = await cli(["--from", "latest", "--to", target.url, "--frce"]);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/--frce/);
  });

  describe("npm run restore: the command line", function () {
    this.timeout(240_000); // each case starts a TypeScript process on a loaded machine

    it("--help exits 0 with the usage; --from without a value, or missing, exits 2 naming it", async () => {
      const help = await cli(["--help"]);
      expect(help.code).to.equal(0);
      expect(help.stdout).to.match(/^usage: npm run restore -- --from <object key\|latest> --to <database url> \[--force\] \[--json\]$/m);
      expect(help.stdout).to.match(/^ {2}--force /m);
      const noValue = await cli(["--to", "postgres://localhost/nowhere", "--from"]);
      expect(noValue.code).to.equal(2);
      expect(noValue.stderr).to.match(/^error: .*--from/);
      expect(noValue.stderr).to.contain("usage: npm run restore");
      const missing = await cli(["--to", "postgres://localhost/nowhere"]);
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.match(/^error: --from is required/);
    });

    it("over a non-empty database: refused without --force (exit 1, the target unchanged), replaced with it (exit 0)", async () => {
      const target = await freshTarget();
      await restore(target.url);
      const client = new pg.Client({ connectionString: target.url });
      await client.connect();
      try {
        await client.query(`UPDATE pools SET name = 'tampered'`);
      } finally {
        await client.end();
      }
      const beforeRefusal = await snapshot(target.url);
      const refused = await cli(["--from", "latest", "--to", target.url]);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.match(/^error: the target database is not empty \(\d+ tables, views or sequences\).*pass --force/);
      expect(refused.stdout).to.equal("");
      expect(await snapshot(target.url)).to.deep.equal(beforeRefusal);

      const forced = await cli(["--from", "latest", "--to", target.url, "--force"]);
      expect(forced.code, forced.stderr).to.equal(0);
      expect(forced.stdout).to.match(/^verification passed$/m);
      expect((await snapshot(target.url)).pools).to.deep.equal((await snapshot(h.db.url)).pools);
    });

    describe("verification catches a bad database: exit 1, the problem named", () => {
      const prefix = `tampered-${process.pid}/`;
      /** A backup (under its own prefix) of a copy of the seeded database changed by `tamper`. */
      async function backupOfTampered(tamper: (client: pg.Client) => Promise<void>): Promise<string> {
        const copy = await freshTarget();
        await restore(copy.url);
        const client = new pg.Client({ connectionString: copy.url });
        await client.connect();
        try {
          await tamper(client);
        } finally {
          await client.end();
        }
        const tamperedStore = new BackupStore({ ...store.settings, prefix });
        try {
          return (await takeBackup({ databaseUrl: copy.url, store: tamperedStore, keys: KEYS, keep: 10 })).key;
        } finally {
          tamperedStore.close();
        }
      }
      const restoreWithCli = async (key: string) => cli(["--from", key, "--to", (await freshTarget()).url], { BACKUP_PREFIX: prefix });

      it("a database whose migrations miss one", async () => {
        const last = migrations.at(-1)!.name;
        const key = await backupOfTampered(async (c) => void (await c.query(`DELETE FROM schema_migrations WHERE name = $1`, [last])));
        const out = await restoreWithCli(key);
        expect(out.code).to.equal(1);
        expect(out.stdout).to.contain(`restored ${key} (`);
        expect(out.stdout).to.contain(`VERIFICATION FAILED:\n  - migrations not applied: ${last}`);
        expect(out.stdout).not.to.match(/^verification passed$/m);
      });

      it("a database with a tampered balance (the ledger invariants broken)", async () => {
        let account = "";
        const key = await backupOfTampered(async (c) => {
          const { rows } = await c.query<{ key: string }>(`SELECT key FROM ledger_accounts WHERE owner_wallet IS NOT NULL AND kind <> 'stake' AND balance > 0 ORDER BY key LIMIT 1`);
          account = rows[0]!.key;
          await c.query(`UPDATE ledger_accounts SET balance = balance + 7 WHERE key = $1`, [account]);
        });
        const out = await restoreWithCli(key);
        expect(out.code).to.equal(1);
        expect(out.stdout).to.match(/^ledger: balances sum to 7, 0 negative user accounts, 1 drifted accounts$/m);
        expect(out.stdout).to.contain("VERIFICATION FAILED:\n");
        expect(out.stdout).to.contain("  - ledger: balances sum to 7, not 0\n");
        expect(out.stdout).to.contain(`  - ledger: account ${account} balance differs from its transfers`);
        expect(out.stdout).not.to.contain("migrations not applied");
      });
    });
  });

  describe("a bad object gives a clear error and leaves the target untouched", () => {
    let good: Buffer;
    let target: TestDatabase;
    before(async () => {
      const latest = (await store.latest())!;
      const file = join(tmpdir(), `twist-backup-good-${process.pid}`);
      await store.download(latest.key, file);
      good = await readFile(file);
      target = await freshTarget();
    });
    afterEach(async () => expect(await tableCount(target.url)).to.equal(0));

    /** Puts `bytes` under a key of its own (as if it were a backup) and restores it. */
    async function restoreBytes(bytes: Buffer, name: string, keys: BackupKeySet = KEYS): Promise<Error> {
      const file = join(tmpdir(), `twist-backup-${name}-${process.pid}`);
      await writeFile(file, bytes);
      const key = `postgres/bad/${name}.dump.enc`;
      await store.upload(key, file, bytes.length);
      return restore(target.url, key, keys).then(
        () => expect.fail("the restore should have failed"),
        (err: Error) => err,
      );
    }

    it("a corrupted object (one byte flipped in the middle) fails authentication", async () => {
      const bytes = Buffer.from(good);
      bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
      const err = await restoreBytes(bytes, "corrupted");
      expect(err).to.be.instanceOf(BackupIntegrityError);
      expect(err.message).to.match(/failed authentication.*corrupted or truncated/);
    });

    it("a truncated object fails authentication; one cut inside the header is named as truncated", async () => {
      const half = await restoreBytes(good.subarray(0, Math.floor(good.length / 2)), "truncated");
      expect(half).to.be.instanceOf(BackupIntegrityError);
      expect(half.message).to.match(/failed authentication/);
      const stub = await restoreBytes(good.subarray(0, 20), "stub");
      expect(stub).to.be.instanceOf(BackupIntegrityError);
      expect(stub.message).to.match(/truncated/);
    });

    it("a plaintext pg_dump archive is not accepted as a backup", async () => {
      const { stdout } = await run("pg_dump", ["--format=custom", h.db.url], { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 });
      const err = await restoreBytes(stdout, "plaintext");
      expect(err).to.be.instanceOf(BackupIntegrityError);
      expect(err.message).to.match(/not a TWIST backup/);
    });

    it("a wrong key under the right key id fails authentication; an unknown key id is named", async () => {
      const latestKey = (await store.latest())!.key;
      const wrong = parseBackupKeySet(`bk-2026:${randomBytes(32).toString("base64")}`);
      const err = await restore(target.url, latestKey, wrong).catch((e: Error) => e);
      expect(err).to.be.instanceOf(BackupIntegrityError);
      expect((err as Error).message).to.match(/failed authentication with key id "bk-2026"/);
      const other = parseBackupKeySet(keyText("someone-else"));
      const unknown = await restore(target.url, latestKey, other).catch((e: Error) => e);
      expect(unknown).to.be.instanceOf(BackupIntegrityError);
      expect((unknown as Error).message).to.match(/key id "bk-2026", which BACKUP_ENCRYPTION_KEYS does not hold/);
    });

    it("a missing object is named; an empty bucket has no latest", async () => {
      const err = await restore(target.url, "postgres/2020-01-01T00-00-00-000Z.dump.enc").catch((e: Error) => e);
      expect(err).to.be.instanceOf(BackupNotFoundError);
      expect((err as Error).message).to.match(/no backup object "postgres\/2020-01-01T00-00-00-000Z.dump.enc" in bucket twist-backups-test/);
      const empty = new BackupStore({ ...store.settings, prefix: "nothing-here/" });
      const none = await restoreBackup({ store: empty, keys: KEYS, from: "latest", to: target.url, force: false }).catch((e: Error) => e);
      empty.close();
      expect(none).to.be.instanceOf(BackupNotFoundError);
      expect((none as Error).message).to.match(/holds no backup under "nothing-here\/"/);
    });
  });

  describe("the scheduled job", () => {
    it("schedules relative to the newest backup: due now when none is recent, else one interval after it", () => {
      const hour = 3_600_000;
      expect(nextRunAt(10 * hour, hour, undefined)).to.equal(10 * hour);
      expect(nextRunAt(10 * hour, hour, 9.5 * hour)).to.equal(10.5 * hour);
      expect(nextRunAt(10 * hour, hour, 8 * hour)).to.equal(10 * hour);
    });

    it("runs on start when no backup is recent, reports success on /metrics, and a restarted job reads its last success back from the bucket", async () => {
      const prefix = `job-${process.pid}/`;
      const jobStore = () => new BackupStore({ ...store.settings, prefix });
      const job = new BackupJob({ databaseUrl: h.db.url, store: jobStore(), keys: KEYS, keep: 3, intervalMs: 3_600_000, metricsPort: await freePort(), logger });
      const { metricsPort } = await job.start();
      let objects: unknown[] = [];
      for (let i = 0; i < 200 && objects.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        objects = await new BackupStore({ ...store.settings, prefix }).list();
      }
      await job.stop();
      expect(objects).to.have.length(1);
      const takenAt = (objects[0] as { takenAt: Date }).takenAt.getTime() / 1000;

      // Restart: no new backup is due for an hour, and the metric already shows the last success.
      const again = new BackupJob({ databaseUrl: h.db.url, store: jobStore(), keys: KEYS, keep: 3, intervalMs: 3_600_000, metricsPort, logger });
      await again.start();
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(text).to.match(new RegExp(`^twist_backup_last_success_timestamp_seconds ${takenAt}$`, "m"));
      expect(text).to.match(/^twist_backup_last_failure_timestamp_seconds 0$/m);
      expect(text, "the schedule the no-recent-backup alert reads").to.match(/^twist_backup_interval_seconds 3600$/m);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/nope`)).status).to.equal(404);
      await again.stop();
      expect(await new BackupStore({ ...store.settings, prefix }).list()).to.have.length(1);
    });

    it("a database outage is a failed backup: failure metric and log line, nothing uploaded, no temporary file left", async () => {
      const prefix = `outage-${process.pid}/`;
      const lines: string[] = [];
      const captured = createLogger("backup", { level: "info", destination: { write: (l: string) => void lines.push(l) } });
      const deadPort = await freePort();
      const job = new BackupJob({
        databaseUrl: `postgres://postgres@127.0.0.1:${deadPort}/nothing`,
        store: new BackupStore({ ...store.settings, prefix }),
        keys: KEYS,
        keep: 3,
        intervalMs: 3_600_000,
        metricsPort: await freePort(),
        logger: captured,
      });
      const tempsBefore = (await readdir(tmpdir())).filter((f) => f.startsWith("twist-backup-")).length;
      const err = await job.runOnce().catch((e: Error) => e);
      expect((err as Error).message).to.match(/pg_dump failed.*(refused|connect)/is);
      const text = await job.metrics.registry.metrics();
      expect(text).to.match(/^twist_backup_runs_total\{result="failure"\} 1$/m);
      expect(text).to.match(/^twist_backup_last_failure_timestamp_seconds [1-9]/m);
      expect(text).to.match(/^twist_backup_last_success_timestamp_seconds 0$/m);
      const line = JSON.parse(lines.find((l) => l.includes("backup.failed"))!);
      expect(line).to.include({ level: "error", event: "backup.failed", msg: "backup failed" });
      expect(await new BackupStore({ ...store.settings, prefix }).list()).to.deep.equal([]);
      expect((await readdir(tmpdir())).filter((f) => f.startsWith("twist-backup-")).length).to.be.at.most(tempsBefore);
      await job.stop();
    });

    it("an unreachable bucket is a failed backup too", async () => {
      const dead = new BackupStore({ ...store.settings, endpoint: `http://127.0.0.1:${await freePort()}` });
      const err = await takeBackup({ databaseUrl: h.db.url, store: dead, keys: KEYS, keep: 3 }).catch((e: Error) => e);
      dead.close();
      expect(err).to.be.instanceOf(Error);
      expect((err as Error).message).to.match(/ECONNREFUSED|connect/i);
    });

    it("the image's bundle runs alone: backs up on start, answers the HEALTHCHECK, stops cleanly on SIGTERM; a restart takes no extra backup", async () => {
      const bundleDir = await mkdtemp(join(tmpdir(), "twist-backup-bundle-"));
      const prefix = `bundle-${process.pid}/`;
      try {
        // Only what the Dockerfile copies, outside the repository: no node_modules to fall back on.
        await copyFile(join(__dirname, "../../../dist/influencer/backup.js"), join(bundleDir, "backup.js"));
        const port = await freePort();
        const env = {
          PATH: process.env.PATH!,
          LOG_LEVEL: "info",
          DATABASE_URL: h.db.url,
          BACKUP_S3_ENDPOINT: s3.endpoint,
          BACKUP_BUCKET: s3.bucket,
          BACKUP_PREFIX: prefix,
          BACKUP_S3_ACCESS_KEY_ID: s3.accessKeyId,
          BACKUP_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
          BACKUP_ENCRYPTION_KEYS: KEYS_TEXT,
          METRICS_PORT: String(port),
        };
        const start = async () => {
          const child = spawn(process.execPath, ["backup.js"], { cwd: bundleDir, env, stdio: ["ignore", "pipe", "pipe"] });
          let out = "";
          child.stdout.on("data", (d) => (out += d));
          const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
          for (let i = 0; i < 200 && !out.includes("backup job started"); i++) await new Promise((r) => setTimeout(r, 50));
          return { child, exited, output: () => out };
        };
        const first = await start();
        const listed = async () => new BackupStore({ ...store.settings, prefix }).list();
        for (let i = 0; i < 200 && (await listed()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
        expect(await listed()).to.have.length(1);
        expect((await fetch(`http://127.0.0.1:${port}/health`)).status).to.equal(200);
        first.child.kill("SIGTERM");
        expect(await first.exited).to.equal(0);
        const lines = first
          .output()
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l));
        expect(lines.map((l) => l.msg)).to.include.members(["backup job started", "backup uploaded", "backup job stopped"]);
        expect(first.output()).not.to.contain(KEYS_TEXT.split(",")[0]!.split(":")[1]);

        const second = await start();
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(metrics).to.match(/^twist_backup_last_success_timestamp_seconds [1-9]/m);
        second.child.kill("SIGTERM");
        expect(await second.exited).to.equal(0);
        expect(await listed()).to.have.length(1);
      } finally {
        await rm(bundleDir, { recursive: true, force: true });
      }
    });

    it("configuration: every missing variable is named, and a malformed key set says what is wrong", () => {
      expect(() => loadBackupJobConfig({})).to.throw(/DATABASE_URL.*required|BACKUP_S3_ENDPOINT.*required/);
      const base = {
        DATABASE_URL: "postgres://twist@postgres:5432/twist",
        BACKUP_S3_ENDPOINT: "https://0123.r2.cloudflarestorage.com",
        BACKUP_BUCKET: "twist-backups-staging",
        BACKUP_S3_ACCESS_KEY_ID: "abc123",
        BACKUP_S3_SECRET_ACCESS_KEY: "secret-secret",
        BACKUP_ENCRYPTION_KEYS: KEYS_TEXT,
      };
      const config = loadBackupJobConfig(base);
      expect(config).to.include({ BACKUP_INTERVAL_SECONDS: 3600, BACKUP_KEEP: 48, BACKUP_PREFIX: "postgres/", METRICS_PORT: 9187 });
      expect(() => loadBackupJobConfig({ ...base, BACKUP_ENCRYPTION_KEYS: "k1:too-short-to-be-a-key" })).to.throw(/BACKUP_ENCRYPTION_KEYS: key "k1" must be base64 of exactly 32 bytes/);
      expect(() => loadBackupJobConfig({ ...base, BACKUP_KEEP: "0" })).to.throw(/BACKUP_KEEP/);
    });
  });
});
