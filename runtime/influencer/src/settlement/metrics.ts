// The settlement worker's own /health, /ready and /metrics (it serves no API): what the money-path
// alerts read. Backlog gauges are measured at scrape time (queue counts from Redis, pending payouts
// from Postgres), so they are right after a restart, with no state kept in the process.
import express from "express";
import { Counter, Gauge } from "prom-client";
import { QueryTypes, type Sequelize } from "sequelize";
import { observability } from "@twist/service";
import type { RunningSettlementWorker, SettlementOutcome } from "./queue";

const OUTCOMES: SettlementOutcome[] = ["settled", "voided", "not-pending", "awaiting-chain"];

export function settlementMetricsApp(sequelize: Sequelize, running: RunningSettlementWorker): express.Express {
  const { worker } = running;
  const obs = observability("settlement", {
    postgres: () => sequelize.query("SELECT 1"),
    // A queue count is a Redis round trip on the queue's own connection.
    redis: () => running.counts(),
  });
  const registry = obs.registry;

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
      const counts = await running.counts();
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: "settlement_pending_payouts",
    help: "Payouts still pending (reserved, not yet posted or voided)",
    registers: [registry],
    async collect() {
      this.set((await pendingPayouts(sequelize)).count);
    },
  });
  new Gauge({
    name: "settlement_oldest_pending_payout_age_seconds",
    help: "Age of the oldest pending payout (0 when none)",
    registers: [registry],
    async collect() {
      this.set((await pendingPayouts(sequelize)).oldestAgeSeconds);
    },
  });

  const app = express();
  app.disable("x-powered-by");
  app.use(obs.routes);
  return app;
}

async function pendingPayouts(sequelize: Sequelize): Promise<{ count: number; oldestAgeSeconds: number }> {
  const [row] = await sequelize.query<{ count: string; age: string | null }>(
    `SELECT count(*)::text AS count, extract(epoch FROM now() - min(created_at))::text AS age FROM payouts WHERE status = 'pending'`,
    { type: QueryTypes.SELECT },
  );
  return { count: Number(row?.count ?? 0), oldestAgeSeconds: row?.age ? Math.max(0, Number(row.age)) : 0 };
}
