// pg_dump and pg_restore as child processes. The connection goes through libpq's environment
// (PGHOST, PGPASSWORD, ...), so the password is in no command line that `ps` would show.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { join } from "node:path";
import type { Readable } from "node:stream";

export class PostgresToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PostgresToolError";
  }
}

/** libpq variables for a postgres:// URL. */
export function libpqEnv(databaseUrl: string): Record<string, string> {
  const u = new URL(databaseUrl);
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") throw new PostgresToolError("the database URL must start with postgres://");
  const env: Record<string, string> = {
    PGHOST: decodeURIComponent(u.hostname.replace(/^\[|\]$/g, "")),
    PGPORT: u.port || "5432",
    PGDATABASE: decodeURIComponent(u.pathname.slice(1)),
  };
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const sslmode = u.searchParams.get("sslmode");
  if (sslmode) env.PGSSLMODE = sslmode;
  if (!env.PGDATABASE) throw new PostgresToolError("the database URL names no database");
  return env;
}

function tool(binDir: string | undefined, name: string): string {
  return binDir ? join(binDir, name) : name;
}

/** Collects the tail of stderr and resolves when the process exits 0, else rejects naming the tool. */
function finished(child: ChildProcessByStdio<null, Readable | null, Readable>, name: string): Promise<void> {
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    child.once("error", (err) => reject(new PostgresToolError(`${name} could not start: ${err.message}`)));
    child.once("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new PostgresToolError(`${name} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || "no message"}`));
    });
  });
}

/**
 * A consistent snapshot of the database in pg_dump's custom format (one transaction, repeatable
 * read), compressed by pg_dump itself. Returns the archive stream and a promise of the exit.
 */
export function pgDump(databaseUrl: string, binDir?: string): { stdout: Readable; done: Promise<void> } {
  const child = spawn(tool(binDir, "pg_dump"), ["--format=custom", "--compress=6", "--no-owner", "--no-privileges"], {
    env: { ...process.env, ...libpqEnv(databaseUrl) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { stdout: child.stdout, done: finished(child, "pg_dump") };
}

/**
 * Restores an archive file in one transaction: it fails whole or applies whole, so a bad archive
 * leaves the target as it was. `clean` first drops the archive's objects that exist (--force).
 */
export async function pgRestore(archivePath: string, databaseUrl: string, options: { clean: boolean; binDir?: string }): Promise<void> {
  const env = libpqEnv(databaseUrl);
  const args = ["--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", `--dbname=${env.PGDATABASE}`];
  if (options.clean) args.push("--clean", "--if-exists");
  const child = spawn(tool(options.binDir, "pg_restore"), [...args, archivePath], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  await finished(child, "pg_restore");
}
