// Environment of the backup job (node backup.js in the backup image) and of `npm run restore`,
// validated at start-up: a missing or malformed variable stops the process naming it. On the VM the
// secrets arrive as files under /run/secrets, exported as these variables by the image's loader.
import { Joi, configTypes, loadConfig } from "@twist/shared/config";
import type { BackupKeySet } from "@twist/shared/keys";
import type { BucketSettings } from "./store";

export interface BucketConfig {
  BACKUP_S3_ENDPOINT: string;
  BACKUP_BUCKET: string;
  BACKUP_PREFIX: string;
  BACKUP_S3_ACCESS_KEY_ID: string;
  BACKUP_S3_SECRET_ACCESS_KEY: string;
  BACKUP_ENCRYPTION_KEYS: BackupKeySet;
  /** Directory holding pg_dump/pg_restore; PATH when unset. */
  PG_BIN_DIR?: string;
}

export interface BackupJobConfig extends BucketConfig {
  DATABASE_URL: string;
  LOG_LEVEL: string;
  /** Seconds between backups (stack config twist:backupIntervalMinutes, default hourly). */
  BACKUP_INTERVAL_SECONDS: number;
  /** Newest backups kept; older ones are deleted after each success (twist:backupKeep). */
  BACKUP_KEEP: number;
  /** Port of GET /metrics and GET /health on the data network. */
  METRICS_PORT: number;
}

const bucketKeys = {
  BACKUP_S3_ENDPOINT: configTypes.url().required(),
  BACKUP_BUCKET: Joi.string()
    .pattern(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/)
    .required(),
  BACKUP_PREFIX: Joi.string()
    .pattern(/^([A-Za-z0-9._-]+\/)*$/)
    .allow("")
    .default("postgres/"),
  BACKUP_S3_ACCESS_KEY_ID: Joi.string().required(),
  BACKUP_S3_SECRET_ACCESS_KEY: Joi.string().required(),
  BACKUP_ENCRYPTION_KEYS: configTypes.backupKeySet().required(),
  PG_BIN_DIR: Joi.string().optional(),
};

export function loadBucketConfig(env: Record<string, string | undefined> = process.env): BucketConfig {
  return loadConfig<BucketConfig>(Joi.object(bucketKeys), env);
}

export function loadBackupJobConfig(env: Record<string, string | undefined> = process.env): BackupJobConfig {
  return loadConfig<BackupJobConfig>(
    Joi.object({
      ...bucketKeys,
      DATABASE_URL: configTypes.url(["postgres", "postgresql"]).required(),
      LOG_LEVEL: Joi.string().valid("fatal", "error", "warn", "info", "debug", "trace", "silent").default("info"),
      BACKUP_INTERVAL_SECONDS: Joi.number()
        .integer()
        .min(60)
        .max(7 * 86_400)
        .default(3600),
      BACKUP_KEEP: Joi.number().integer().min(1).max(10_000).default(48),
      METRICS_PORT: configTypes.port().default(9187),
    }),
    env,
  );
}

export function bucketSettings(config: BucketConfig): BucketSettings {
  return {
    endpoint: config.BACKUP_S3_ENDPOINT,
    bucket: config.BACKUP_BUCKET,
    prefix: config.BACKUP_PREFIX,
    accessKeyId: config.BACKUP_S3_ACCESS_KEY_ID,
    secretAccessKey: config.BACKUP_S3_SECRET_ACCESS_KEY,
  };
}
