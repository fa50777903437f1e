// The influencer API process: validate the environment, build the app, listen (API on PORT, /metrics
// on METRICS_PORT), and on SIGTERM stop
// accepting requests, flush accepted clicks and close connections.
import { listen, loadApiDocs, metricsAppOf, shutdownOnSignals } from "@twist/service";
import { ConfigError } from "@twist/shared/config";
import { createLogger } from "@twist/shared/logger";
import { createApp } from "./app";
import { loadInfluencerConfig } from "./config";

async function main(): Promise<void> {
  const logger = createLogger("influencer");
  let config: ReturnType<typeof loadInfluencerConfig>;
  try {
    config = loadInfluencerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // One line on stderr naming every bad variable (never their values).
      process.stderr.write(`influencer: ${err.problems.map((p) => `${p.name}: ${p.message}`).join("; ")}\n`);
      process.exit(1);
    }
    throw err;
  }
  logger.level = config.LOG_LEVEL;
  const service = createApp(config, { logger, apiDocs: loadApiDocs(__dirname) });
  await service.events.start();
  const running = await listen(service.app, config.PORT, undefined, (server) => service.events.attach(server));
  const metrics = await listen(metricsAppOf(service.app), config.METRICS_PORT);
  logger.info({ port: running.port, metricsPort: metrics.port, env: config.TWIST_ENV }, "influencer API listening");
  // Event sockets first: they get 1001 "going away" and reconnect elsewhere while requests drain.
  shutdownOnSignals(logger, async () => {
    await service.events.close();
    await running.close();
    await metrics.close();
    await service.close();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
