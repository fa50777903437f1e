// A migration is a module with a name and SQL steps; the list in index.ts is explicit so the esbuild
// bundle contains every migration (no filesystem globs at run time).
import type { Sequelize } from "sequelize";

export interface Migration {
  /** Its file name (`NNNN-subject`): umzug records it in schema_migrations, and the list runs in number order. */
  name: string;
  up(sequelize: Sequelize): Promise<void>;
  down?(sequelize: Sequelize): Promise<void>;
}

/** A migration made of SQL run in one transaction (Postgres DDL is transactional). */
export function sqlMigration(name: string, up: string, down?: string): Migration {
  const run = (sql: string) => async (sequelize: Sequelize) => {
    await sequelize.transaction(async (transaction) => {
      await sequelize.query(sql, { transaction });
    });
  };
  return { name, up: run(up), ...(down ? { down: run(down) } : {}) };
}
