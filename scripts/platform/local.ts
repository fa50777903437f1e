// What `npm start` and `npm run dev` share: the platform's options from the environment, the summary
// printed once it runs, and stopping everything on SIGINT/SIGTERM.
import { join } from "node:path";
import { DEV_KEY_DEFAULTS } from "./dev-keys";
import type { Platform, PlatformOptions } from "./index";

export const LOCAL_ENV_USAGE = `Configured by environment:
  DATABASE_URL      default postgres://postgres@127.0.0.1:5432/twist (created and migrated if needed)
  REDIS_URL         default redis://127.0.0.1:6379;  REDIS_PREFIX  default twist:local:
  EDGE_PORT, AUTH_PORT, INFLUENCER_PORT   default 8787, 3001, 3003
  AUTH_METRICS_PORT, INFLUENCER_METRICS_PORT   default 9101, 9103 (the private /metrics listeners)
  SETTLEMENT_METRICS_PORT   default 3004 (the settlement worker's /health, /ready, /metrics)
  EDGE_STATE_DIR    default .local/edge;  MERCHANT_DOMAINS  default shop.example,localhost
  ${Object.keys(DEV_KEY_DEFAULTS).join(", ")}   development keys (defaults printed at start)`;

const env = process.env;
const port = (name: string, fallback: number) => Number(env[name] ?? fallback);

export const step = (text: string) => console.log(`${text} ...`);

export function localPlatformOptions(): PlatformOptions {
  return {
    databaseUrl: env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/twist",
    redisUrl: env.REDIS_URL ?? "redis://127.0.0.1:6379",
    redisPrefix: env.REDIS_PREFIX ?? "twist:local:",
    ports: { edge: port("EDGE_PORT", 8787), auth: port("AUTH_PORT", 3001), influencer: port("INFLUENCER_PORT", 3003), settlement: port("SETTLEMENT_METRICS_PORT", 3004) },
    metricsPorts: { auth: port("AUTH_METRICS_PORT", 9101), influencer: port("INFLUENCER_METRICS_PORT", 9103) },
    edgePersistDir: env.EDGE_STATE_DIR ?? join(__dirname, "..", "..", ".local", "edge"),
    merchantDomains: (env.MERCHANT_DOMAINS ?? "shop.example,localhost").split(","),
    log: (line) => console.log(line),
    progress: step,
    edgeConsumerBatchTimeoutSeconds: 1,
  };
}

export function printSummary(platform: Platform): void {
  const k = platform.keys;
  const source = (name: keyof typeof DEV_KEY_DEFAULTS) => (env[name] ? "from environment" : "development default");
  console.log(`
TWIST is running locally.
  edge (Worker in workerd)  ${platform.urls.edge}    POST /api/v1/vau, /api/v1/vau/batch, GET /health, /metrics
  auth                      ${platform.urls.auth}    POST /auth/nonce, /auth/verify, GET /auth/me
  influencer API            ${platform.urls.influencer}    /api/v1/..., GET /l/:code, /internal/v1/rewards
  private metrics           http://127.0.0.1:${port("AUTH_METRICS_PORT", 9101)}/metrics (auth), http://127.0.0.1:${port("INFLUENCER_METRICS_PORT", 9103)}/metrics (influencer)
  settlement worker         ${platform.urls.settlement}    GET /health, /ready, /metrics

Development keys (every signature and token is enforced; sign with these):
  JWT_KEYS=${k.JWT_KEYS}    (${source("JWT_KEYS")})
  VAU_SIGNING_KEYS=${k.VAU_SIGNING_KEYS}    (${source("VAU_SIGNING_KEYS")}; clients -> edge)
  SERVICE_SIGNING_KEYS=${k.SERVICE_SIGNING_KEYS}    (${source("SERVICE_SIGNING_KEYS")}; edge consumer -> backend)
  MERCHANT_SIGNING_KEYS=${k.MERCHANT_SIGNING_KEYS}    (${source("MERCHANT_SIGNING_KEYS")}; merchant -> POST /api/v1/conversions)
  IP_HASH_SALT=${k.IP_HASH_SALT}    (${source("IP_HASH_SALT")})

Try it: npm run smoke -- --target local
Ctrl-C stops everything.`);
}

/**
 * On SIGINT or SIGTERM runs `stop` once and exits 0. The launcher owns its signals: Miniflare's own
 * exit hook would exit on SIGINT before the services have stopped; stopping the platform disposes
 * Miniflare, which then stops workerd itself.
 */
export function stopOnSignals(stop: () => Promise<unknown>): void {
  let stopping = false;
  const onSignal = async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping ...");
    await stop();
    console.log("stopped.");
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void onSignal());
  }
}
