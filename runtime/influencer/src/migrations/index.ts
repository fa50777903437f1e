// The migration list and runner (umzug). Explicit imports, so the bundle carries every migration;
// a new migration is appended with the next free number (applied names are history: never renamed).
// Re-runnable: umzug records what ran in schema_migrations, and a Postgres advisory lock makes two
// concurrent runs (two replicas, a retried job) take turns instead of racing.
import type { Sequelize } from "sequelize";
import { SequelizeStorage, Umzug } from "umzug";
import type { Migration } from "./types";
import m0001 from "./0001-identity";
import m0002 from "./0002-links-clicks";
import m0003 from "./0003-conversions";
import m0100 from "./0100-ledger";
import m0101 from "./0101-pools-payouts";
import m0102 from "./0102-pool-stake-shards";
import m0120 from "./0120-ledger-seq-payout-items";
import m0180 from "./0180-events-notifications";
import m0190 from "./0190-transfer-indexes";
import m0200 from "./0200-transfer-write-path";

export const migrations: Migration[] = [m0001, m0002, m0003, m0100, m0101, m0102, m0120, m0180, m0190, m0200];

const LOCK_KEY = 7_419_004; // any constant; shared by every runner of this schema

function migrator(sequelize: Sequelize) {
  return new Umzug({
    migrations: migrations.map((m) => ({
      name: m.name,
      up: () => m.up(sequelize),
      down: m.down ? () => m.down!(sequelize) : undefined,
    })),
    storage: new SequelizeStorage({ sequelize, tableName: "schema_migrations" }),
    logger: undefined,
  });
}

/** Applies every pending migration; returns the names it applied (empty when up to date). */
export async function runMigrations(sequelize: Sequelize): Promise<string[]> {
  // The advisory lock lives in its own transaction (its own connection) while umzug runs.
  return sequelize.transaction(async (transaction) => {
    await sequelize.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`, { transaction });
    const applied = await migrator(sequelize).up();
    return applied.map((m) => m.name);
  });
}

/** Reverts every migration (tests and local resets only). */
export async function revertAllMigrations(sequelize: Sequelize): Promise<string[]> {
  const reverted = await migrator(sequelize).down({ to: 0 });
  return reverted.map((m) => m.name);
}

export type { Migration } from "./types";
export { sqlMigration } from "./types";
