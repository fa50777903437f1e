// Entry of the backup container (`node backup.js`): validated config, then the scheduled job until
// SIGTERM. Exits 1 naming the variable when the configuration is bad.
import type { ConfigError } from "@twist/shared/config";
import { createLogger } from "@twist/shared/logger";
import { bucketSettings, loadBackupJobConfig } from "./config";
import { BackupJob } from "./job";
import { BackupStore } from "./store";

async function main(): Promise<void> {
  const logger = createLogger("backup");
  let config: ReturnType<typeof loadBackupJobConfig>;
  try {
    config = loadBackupJobConfig();
  } catch (err) {
    logger.fatal({ problems: (err as ConfigError).problems ?? (err as Error).message }, (err as Error).message);
    logger.flush();
    process.exit(1);
  }
  logger.level = config.LOG_LEVEL;
  const job = new BackupJob({
    databaseUrl: config.DATABASE_URL,
    store: new BackupStore(bucketSettings(config)),
    keys: config.BACKUP_ENCRYPTION_KEYS,
    keep: config.BACKUP_KEEP,
    binDir: config.PG_BIN_DIR,
    intervalMs: config.BACKUP_INTERVAL_SECONDS * 1000,
    metricsPort: config.METRICS_PORT,
    logger,
  });
  const { metricsPort } = await job.start();
  logger.info({ metricsPort, intervalSeconds: config.BACKUP_INTERVAL_SECONDS, keep: config.BACKUP_KEEP, bucket: config.BACKUP_BUCKET }, "backup job started");
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      void job.stop().then(() => {
        logger.info({ signal }, "backup job stopped");
        logger.flush(() => process.exit(0));
      });
    });
  }
}

void main();
