// One-shot migration job (`npm run migrate`, `node migrate.js` in the image): applies pending
// migrations to DATABASE_URL and exits 0, or prints why not and exits 1. A missing or malformed
// variable prints the ConfigError naming it, as the services do.
import { ConfigError } from "@twist/shared/config";
import { createLogger, flushAndExit } from "@twist/shared/logger";
import { loadMigrateConfig, type MigrateConfig } from "./config";
import { createSequelize } from "./db";
import { runMigrations } from "./migrations";

async function main(): Promise<void> {
  let config: MigrateConfig;
  try {
    config = loadMigrateConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`influencer-migrate: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger("influencer-migrate", { level: config.LOG_LEVEL });
  let code = 0;
  const sequelize = createSequelize(config.DATABASE_URL, { poolMax: 2 });
  try {
    const applied = await runMigrations(sequelize);
    logger.info({ applied }, applied.length ? "migrations applied" : "schema up to date");
  } catch (err) {
    logger.fatal({ err }, "migration failed");
    code = 1;
  } finally {
    await sequelize.close();
  }
  flushAndExit(logger, code);
}

void main();
