// What a restored database must show before anyone points the stack at it: the schema at this
// code's migration version, the ledger invariants holding (the ledger's own check), and the rows
// per table so the operator can compare them with the source.
import { QueryTypes } from "sequelize";
import { createSequelize } from "../db";
import { checkLedgerInvariants, type InvariantReport } from "../ledger";
import { migrations } from "../migrations";

export interface VerificationReport {
  migrations: { expected: string; applied: string[]; missing: string[]; unknown: string[] };
  invariants: InvariantReport;
  rowCounts: Record<string, number>;
  /** Every problem found; empty means the restore is good. */
  problems: string[];
}

/** Tables of the public schema, sorted by name. */
export const PUBLIC_TABLES_SQL = `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`;

export async function verifyDatabase(databaseUrl: string): Promise<VerificationReport> {
  const sequelize = createSequelize(databaseUrl, { poolMax: 1 });
  try {
    const tables = (await sequelize.query<{ name: string }>(PUBLIC_TABLES_SQL, { type: QueryTypes.SELECT })).map((t) => t.name);
    const rowCounts: Record<string, number> = {};
    for (const table of tables) {
      const [row] = await sequelize.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${table.replace(/"/g, '""')}"`, { type: QueryTypes.SELECT });
      rowCounts[table] = Number(row!.n);
    }
    const expectedNames = migrations.map((m) => m.name);
    const applied = tables.includes("schema_migrations")
      ? (await sequelize.query<{ name: string }>(`SELECT name FROM schema_migrations ORDER BY name`, { type: QueryTypes.SELECT })).map((r) => r.name)
      : [];
    const missing = expectedNames.filter((n) => !applied.includes(n));
    const unknown = applied.filter((n) => !expectedNames.includes(n));
    const problems: string[] = [];
    if (missing.length) problems.push(`migrations not applied: ${missing.join(", ")}`);
    if (unknown.length) problems.push(`migrations this code does not know (the backup is newer than this checkout): ${unknown.join(", ")}`);
    const invariants = tables.includes("ledger_accounts")
      ? await checkLedgerInvariants(sequelize)
      : { sum: 0n, negativeUserAccounts: [], driftedAccounts: [], orphanTransfers: [], driftedPoolShards: [], violations: ["the ledger tables are missing"] };
    problems.push(...invariants.violations.map((v) => `ledger: ${v}`));
    return { migrations: { expected: expectedNames.at(-1)!, applied, missing, unknown }, invariants, rowCounts, problems };
  } finally {
    await sequelize.close();
  }
}
