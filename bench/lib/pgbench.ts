// pgbench's built-in simple-update script on a throwaway database of the machine's Postgres: the
// limit every ledger path is compared with (one short write transaction per client round trip).
import { spawnSync } from "node:child_process";
import { createTestDatabase } from "../../test/support/postgres";

export interface PgbenchResult {
  tps: number;
  latencyMs: number;
}

/** Initialises a fresh database, runs simple-update for `seconds` at `clients`, drops the database. */
export async function pgbenchSimpleUpdate(clients: number, seconds: number): Promise<PgbenchResult> {
  const db = await createTestDatabase("bench_pgbench");
  try {
    run(["-i", "-q", "-s", "1", db.url]);
    const out = run(["-n", "-b", "simple-update", "-c", String(clients), "-j", String(Math.min(clients, 4)), "-T", String(seconds), db.url]);
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
    const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
    if (!Number.isFinite(tps)) throw new Error(`pgbench printed no tps:\n${out}`);
    return { tps, latencyMs };
  } finally {
    await db.drop();
  }
}

function run(args: string[]): string {
  const result = spawnSync("pgbench", args, { encoding: "utf8" });
  if (result.error || result.status !== 0) throw new Error(`pgbench ${args[0]} failed: ${result.error?.message ?? result.stderr}`);
  return `${result.stdout}\n${result.stderr}`;
}
