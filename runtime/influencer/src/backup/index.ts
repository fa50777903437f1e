export { loadBackupJobConfig, loadBucketConfig, bucketSettings, type BackupJobConfig, type BucketConfig } from "./config";
export { BackupIntegrityError } from "./envelope";
export { BackupJob, nextRunAt } from "./job";
export { PostgresToolError } from "./postgres-tools";
export { restoreBackup, RestoreRefusedError, type RestoreResult } from "./restore-backup";
export { BackupNotFoundError, BackupStore, backupKey, type BucketSettings } from "./store";
export { takeBackup, type BackupResult } from "./take-backup";
export { verifyDatabase, PUBLIC_TABLES_SQL, type VerificationReport } from "./verify";
