// One backup: pg_dump -> AES-256-GCM -> a private temporary file -> the bucket, then the kept count
// applied. The plaintext dump only ever exists as a pipe; a failure anywhere uploads nothing (the
// object is written in one PUT after the dump succeeded) and removes the temporary file.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptToFile } from "./envelope";
import type { BackupKeySet } from "@twist/shared/keys";
import { pgDump } from "./postgres-tools";
import { backupKey, type BackupStore } from "./store";

export interface BackupResult {
  key: string;
  /** Bytes of the encrypted object. */
  size: number;
  takenAt: Date;
  durationMs: number;
  /** Older backups deleted to keep the count. */
  pruned: string[];
}

export interface TakeBackupOptions {
  databaseUrl: string;
  store: BackupStore;
  keys: BackupKeySet;
  /** How many backups to keep (the newest); the bucket's lifecycle rule is the backstop. */
  keep: number;
  /** Directory of pg_dump; PATH when unset. */
  binDir?: string;
  now?: () => Date;
}

export async function takeBackup(options: TakeBackupOptions): Promise<BackupResult> {
  const started = performance.now();
  const takenAt = (options.now ?? (() => new Date()))();
  const dir = await mkdtemp(join(tmpdir(), "twist-backup-"));
  try {
    const file = join(dir, "backup.enc");
    const dump = pgDump(options.databaseUrl, options.binDir);
    // Both must succeed: a pg_dump that dies mid-way ends its stdout "normally".
    const [size] = await Promise.all([encryptToFile(dump.stdout, options.keys, file), dump.done]);
    const key = backupKey(options.store.settings.prefix, takenAt);
    await options.store.upload(key, file, size);
    const pruned = await options.store.prune(options.keep);
    return { key, size, takenAt, durationMs: performance.now() - started, pruned };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
