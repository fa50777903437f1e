// The settlement worker's own /health, /ready and /metrics (it serves no API): what the money-path
// alerts read. Backlog gauges are measured at scrape time (queue counts from Redis, pending payouts
// from Postgres), so they are right after a restart, with no state kept in the process. A gauge
// whose source is down is left without a sample rather than failing the scrape: /metrics still
// answers, and service_dependency_up says which dependency is missing (unlabelled gauges read NaN).
import express, { type Express } from "express";
import { Counter, Gauge, type Registry } from "prom-client";
import { QueryTypes, type Sequelize } from "sequelize";
import { createServiceApp, metricsAppOf, withTimeout } from "@twist/service";
import type { Logger } from "@twist/shared/logger";
import type { RunningSettlementWorker, SettlementOutcome } from "./queue";

const OUTCOMES: SettlementOutcome[] = ["settled", "voided", "not-pending", "awaiting-chain"];
/** A scrape waits at most this long for Redis or Postgres (BullMQ waits for a connection forever). */
const SOURCE_TIMEOUT_MS = 2000;

/**
 * The service frame (request ids, error envelope, /health, /ready) with no routes of its own, and
 * its /metrics on the same listener: the worker's one port is private (no tunnel routes to it).
 */
export function settlementMetricsApp(sequelize: Sequelize, running: RunningSettlementWorker, logger: Logger): Express {
  const service = createServiceApp({
    service: "settlement",
    logger,
    readiness: {
      postgres: () => sequelize.query("SELECT 1"),
      // A queue count is a Redis round trip on the queue's own connection.
      redis: () => running.counts(),
    },
    routes: (_app, obs) => registerSettlementMetrics(obs.registry, sequelize, running),
  }).app;
  const app = express();
  app.disable("x-powered-by");
  app.get("/metrics", metricsAppOf(service));
  app.use(service);
  return app;
}

function registerSettlementMetrics(registry: Registry, sequelize: Sequelize, running: RunningSettlementWorker): void {
  const { worker } = running;

  const outcomes = new Counter({ name: "settlement_jobs_total", help: "Settlement jobs finished, by outcome", labelNames: ["outcome"], registers: [registry] });
  for (const outcome of OUTCOMES) outcomes.inc({ outcome }, 0);
  const attemptsFailed = new Counter({ name: "settlement_attempts_failed_total", help: "Settlement attempts that failed (retried, or voided on the last)", registers: [registry] });
  worker.on("completed", (_job, outcome) => outcomes.inc({ outcome }));
  worker.on("failed", () => attemptsFailed.inc());

  new Gauge({
    name: "settlement_queue_jobs",
    help: "Settlement jobs in the queue, by state",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const counts = await withTimeout(running.counts(), SOURCE_TIMEOUT_MS).catch(() => undefined);
      this.reset();
      for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
    },
  });
  const pendingGauge = (name: string, help: string, pick: (p: PendingPayouts) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const pending = await pendingPayouts(sequelize).catch(() => undefined);
        this.set(pending ? pick(pending) : NaN);
      },
    });
  pendingGauge("settlement_pending_payouts", "Payouts still pending (reserved, not yet posted or voided)", (p) => p.count);
  pendingGauge("settlement_oldest_pending_payout_age_seconds", "Age of the oldest pending payout (0 when none)", (p) => p.oldestAgeSeconds);
}

interface PendingPayouts {
  count: number;
  oldestAgeSeconds: number;
}

async function pendingPayouts(sequelize: Sequelize): Promise<PendingPayouts> {
  const [row] = await withTimeout(
    sequelize.query<{ count: string; age: string | null }>(
      `SELECT count(*)::text AS count, extract(epoch FROM now() - min(created_at))::text AS age FROM payouts WHERE status = 'pending'`,
      { type: QueryTypes.SELECT },
    ),
    SOURCE_TIMEOUT_MS,
  );
  return { count: Number(row?.count ?? 0), oldestAgeSeconds: row?.age ? Math.max(0, Number(row.age)) : 0 };
}
