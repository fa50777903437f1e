// The job's Prometheus metrics, read by the alerts in ops/prometheus/rules/backups.yml. The schedule
// is exported too, so "no backup for two intervals" follows the stack's twist:backupIntervalMinutes.
// The last success is read back from the bucket at start-up, so a restarted job does not report
// "never" (which would page) or hide a real gap (which would not).
import { Counter, Gauge, Registry } from "prom-client";
import type { BackupResult } from "./take-backup";

export class BackupMetrics {
  readonly registry = new Registry();
  private readonly lastSuccess = new Gauge({
    name: "twist_backup_last_success_timestamp_seconds",
    help: "When the newest backup in the bucket was taken (Unix seconds); 0 if none",
    registers: [this.registry],
  });
  private readonly lastFailure = new Gauge({
    name: "twist_backup_last_failure_timestamp_seconds",
    help: "When the last failed backup attempt ended (Unix seconds); 0 if none since start",
    registers: [this.registry],
  });
  private readonly lastDuration = new Gauge({ name: "twist_backup_last_duration_seconds", help: "Duration of the last successful backup", registers: [this.registry] });
  private readonly lastSize = new Gauge({ name: "twist_backup_last_size_bytes", help: "Size of the last uploaded (encrypted) backup object", registers: [this.registry] });
  private readonly interval = new Gauge({ name: "twist_backup_interval_seconds", help: "Seconds between scheduled backups (stack config)", registers: [this.registry] });
  private readonly runs = new Counter({ name: "twist_backup_runs_total", help: "Backup attempts by result", labelNames: ["result"] as const, registers: [this.registry] });

  constructor(intervalSeconds: number) {
    this.interval.set(intervalSeconds);
    this.lastSuccess.set(0);
    this.lastFailure.set(0);
    this.runs.inc({ result: "success" }, 0);
    this.runs.inc({ result: "failure" }, 0);
  }

  /** The newest backup found in the bucket at start-up. */
  restoredFrom(takenAt: Date): void {
    this.lastSuccess.set(takenAt.getTime() / 1000);
  }

  succeeded(result: BackupResult): void {
    this.lastSuccess.set(result.takenAt.getTime() / 1000);
    this.lastDuration.set(result.durationMs / 1000);
    this.lastSize.set(result.size);
    this.runs.inc({ result: "success" });
  }

  failed(at: Date): void {
    this.lastFailure.set(at.getTime() / 1000);
    this.runs.inc({ result: "failure" });
  }
}
