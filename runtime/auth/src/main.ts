// Entry of the auth bundle (dist/auth/main.js): validate configuration, connect Redis, listen, and
// stop cleanly on SIGTERM/SIGINT. A bad or missing variable prints the ConfigError and exits 1.
import { ConfigError } from "@twist/shared/config";
import { createLogger } from "@twist/shared/logger";
import { createRedis, listen, loadApiDocs, metricsAppOf, shutdownOnSignals } from "@twist/service";
import { createApp } from "./app";
import { loadAuthConfig, type AuthConfig } from "./config";

async function main(): Promise<void> {
  let config: AuthConfig;
  try {
    config = loadAuthConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`auth: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger("auth", { level: config.LOG_LEVEL });
  const redis = createRedis(config.REDIS_URL, config.REDIS_PREFIX, logger);
  const app = createApp(config, { redis, logger, apiDocs: loadApiDocs(__dirname) });
  const running = await listen(app, config.PORT);
  const metrics = await listen(metricsAppOf(app), config.METRICS_PORT);
  logger.info({ port: running.port, metricsPort: metrics.port, env: config.TWIST_ENV, chainId: config.SIWS_CHAIN_ID, domain: config.SIWS_DOMAIN }, "auth listening");
  shutdownOnSignals(logger, async () => {
    await running.close();
    await metrics.close();
    await redis.quit().catch(() => redis.disconnect());
  });
}

main().catch((err: unknown) => {
  console.error("auth: failed to start:", err instanceof Error ? err.message : err);
  process.exit(1);
});
