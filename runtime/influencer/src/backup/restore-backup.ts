// Restore: resolve the object (a key or "latest"), download and decrypt it completely (the GCM tag
// must verify), and only then touch the target: refuse a non-empty database unless forced, restore
// in one transaction, and verify the result. Every failure before pg_restore leaves the target
// untouched; pg_restore itself is all-or-nothing.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { decryptToFile } from "./envelope";
import type { BackupKeySet } from "@twist/shared/keys";
import { pgRestore } from "./postgres-tools";
import { BackupNotFoundError, type BackupStore } from "./store";
import { verifyDatabase, type VerificationReport } from "./verify";

export class RestoreRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RestoreRefusedError";
  }
}

export interface RestoreOptions {
  store: BackupStore;
  keys: BackupKeySet;
  /** An object key, or "latest". */
  from: string;
  to: string;
  /** Restore over a database that already has tables (drops the archive's objects first). */
  force: boolean;
  binDir?: string;
}

export interface RestoreResult {
  key: string;
  kid: string;
  objectBytes: number;
  timings: { downloadMs: number; decryptMs: number; restoreMs: number; verifyMs: number };
  verification: VerificationReport;
}

/** User relations outside the system schemas: any means the database is not empty. */
async function relationCount(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND s.nspname NOT IN ('pg_catalog', 'information_schema') AND s.nspname NOT LIKE 'pg_toast%' AND s.nspname NOT LIKE 'pg_temp%'`,
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const key = options.from === "latest" ? (await options.store.latest())?.key : options.from;
  if (!key) throw new BackupNotFoundError(`bucket ${options.store.settings.bucket} holds no backup under "${options.store.settings.prefix}"`);
  const dir = await mkdtemp(join(tmpdir(), "twist-restore-"));
  try {
    const encrypted = join(dir, "backup.enc");
    const archive = join(dir, "backup.dump");
    let t = performance.now();
    await options.store.download(key, encrypted);
    const downloadMs = performance.now() - t;
    t = performance.now();
    const kid = await decryptToFile(encrypted, options.keys, archive);
    const decryptMs = performance.now() - t;

    const existing = await relationCount(options.to);
    if (existing > 0 && !options.force) {
      throw new RestoreRefusedError(
        `the target database is not empty (${existing} tables, views or sequences); restore into an empty database or pass --force to replace what the backup contains`,
      );
    }
    t = performance.now();
    await pgRestore(archive, options.to, { clean: existing > 0, binDir: options.binDir });
    const restoreMs = performance.now() - t;
    t = performance.now();
    const verification = await verifyDatabase(options.to);
    const verifyMs = performance.now() - t;
    return { key, kid, objectBytes: (await stat(encrypted)).size, timings: { downloadMs, decryptMs, restoreMs, verifyMs }, verification };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
