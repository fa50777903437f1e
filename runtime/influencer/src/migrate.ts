// One-shot migration job (`npm run migrate`, `node migrate.js` in the image): applies pending
// migrations to DATABASE_URL and exits 0, or prints why not and exits 1.
import { createLogger } from "@twist/shared/logger";
import { createSequelize } from "./db";
import { runMigrations } from "./migrations";

async function main(): Promise<void> {
  const logger = createLogger("influencer-migrate");
  const url = process.env.DATABASE_URL;
  if (!url) {
    logger.fatal("DATABASE_URL is required");
    process.exit(1);
  }
  const sequelize = createSequelize(url, { poolMax: 2 });
  try {
    const applied = await runMigrations(sequelize);
    logger.info({ applied }, applied.length ? "migrations applied" : "schema up to date");
  } catch (err) {
    logger.fatal({ err }, "migration failed");
    process.exitCode = 1;
  } finally {
    await sequelize.close();
  }
}

void main();
