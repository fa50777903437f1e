// The settlement worker process (`node worker.js` in the influencer image): consumes the payout
// settlement queue, posts or voids payouts through the configured adapter, sweeps stale pending ones.
import { listen, shutdownOnSignals } from "@twist/service";
import { ConfigError } from "@twist/shared/config";
import { createLogger, flushAndExit } from "@twist/shared/logger";
import { loadInfluencerConfig } from "./config";
import { createSequelize } from "./db";
import { Ledger } from "./ledger";
import { createPayoutService } from "./ledger/wiring";
import { createSettlementAdapter, settlementQueueOptions, startSettlementWorker } from "./settlement";
import { settlementMetricsApp } from "./settlement/metrics";

async function main(): Promise<void> {
  const logger = createLogger("influencer-worker");
  let config: ReturnType<typeof loadInfluencerConfig>;
  try {
    config = loadInfluencerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal({ problems: err.problems }, err.message);
      flushAndExit(logger, 1);
      return;
    }
    throw err;
  }
  logger.level = config.LOG_LEVEL;
  const sequelize = createSequelize(config.DATABASE_URL, { poolMax: 5 });
  const payouts = createPayoutService(config, sequelize, new Ledger(sequelize));
  const adapter = createSettlementAdapter(config);
  const running = startSettlementWorker(settlementQueueOptions(config), payouts, adapter, logger);
  void running.sweep().catch((err: unknown) => logger.warn({ err }, "initial settlement sweep failed"));
  const metrics = await listen(settlementMetricsApp(sequelize, running, logger), config.WORKER_METRICS_PORT);
  logger.info({ adapter: adapter.name, queue: config.SETTLEMENT_QUEUE, metricsPort: metrics.port }, "settlement worker running");
  // Stop the worker (it finishes the job in hand), then close Postgres.
  shutdownOnSignals(logger, async () => {
    await metrics.close();
    await running.close();
    await sequelize.close();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
