// The scheduled backup job: a loop in one long-running container (no cron daemon to configure),
// a GET /metrics for Prometheus, one log line per attempt. The schedule is relative to the newest
// backup in the bucket, so a restart neither takes an extra backup nor skips one that is due.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@twist/shared/logger";
import { BackupMetrics } from "./metrics";
import { takeBackup, type BackupResult, type TakeBackupOptions } from "./take-backup";

export interface BackupJobOptions extends TakeBackupOptions {
  intervalMs: number;
  /** Wait after a failed attempt before the next one (capped by the interval). */
  retryMs?: number;
  metricsPort: number;
  logger: Logger;
}

/** When the next backup is due: now if none is recent enough, else one interval after the last. */
export function nextRunAt(now: number, intervalMs: number, lastSuccess: number | undefined): number {
  return lastSuccess === undefined || now - lastSuccess >= intervalMs ? now : lastSuccess + intervalMs;
}

export class BackupJob {
  readonly metrics: BackupMetrics;
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;
  private lastSuccess?: number;

  constructor(private readonly options: BackupJobOptions) {
    this.metrics = new BackupMetrics(options.intervalMs / 1000);
  }

  private now(): Date {
    return (this.options.now ?? (() => new Date()))();
  }

  /** Serves /metrics, reads the newest backup from the bucket, and schedules the first run. */
  async start(): Promise<{ metricsPort: number }> {
    this.server = createServer((req, res) => {
      if (req.method === "GET" && req.url === "/metrics") {
        void this.metrics.registry.metrics().then((text) => res.writeHead(200, { "Content-Type": this.metrics.registry.contentType }).end(text));
      } else if (req.method === "GET" && req.url === "/health") {
        res.writeHead(200, { "Content-Type": "application/json" }).end('{"status":"ok"}');
      } else {
        res.writeHead(404, { "Content-Type": "application/json" }).end('{"error":{"code":"NOT_FOUND","message":"not found","requestId":"-"}}');
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(this.options.metricsPort, resolve));
    try {
      const latest = await this.options.store.latest();
      if (latest) {
        this.lastSuccess = latest.takenAt.getTime();
        this.metrics.restoredFrom(latest.takenAt);
      }
    } catch (err) {
      // The bucket may be briefly unreachable; the first attempt will tell (and alert) if it stays so.
      this.options.logger.warn({ err }, "could not list existing backups at start-up");
    }
    this.schedule();
    return { metricsPort: (this.server.address() as AddressInfo).port };
  }

  private schedule(delayMs?: number): void {
    if (this.stopped) return;
    const now = this.now().getTime();
    const wait = delayMs ?? Math.max(0, nextRunAt(now, this.options.intervalMs, this.lastSuccess) - now);
    this.timer = setTimeout(() => {
      this.running = this.runOnce().then(
        () => this.schedule(),
        () => this.schedule(Math.min(this.options.retryMs ?? 300_000, this.options.intervalMs)),
      );
    }, wait);
  }

  /** One attempt: updates the metrics and logs one line either way. */
  async runOnce(): Promise<BackupResult> {
    const { logger } = this.options;
    try {
      const result = await takeBackup(this.options);
      this.lastSuccess = result.takenAt.getTime();
      this.metrics.succeeded(result);
      logger.info({ event: "backup.succeeded", key: result.key, bytes: result.size, durationMs: Math.round(result.durationMs), pruned: result.pruned }, "backup uploaded");
      return result;
    } catch (err) {
      this.metrics.failed(this.now());
      logger.error({ event: "backup.failed", err }, "backup failed");
      throw err;
    }
  }

  /** Stops scheduling, lets a running backup finish, closes the metrics server. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.options.store.close();
  }
}
