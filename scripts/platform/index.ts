// The whole TWIST platform on one machine, from the same bundles that deploy: the edge Worker in
// workerd (Miniflare, bindings from runtime/edge/bindings.ts), the auth service, the migration job,
// then the influencer API and its settlement worker, against PostgreSQL and Redis.
// `npm start` (scripts/start.ts) and the end-to-end test (test/e2e) both start it through here.
import { join } from "node:path";
import { startEdge, type RunningEdge } from "../../runtime/edge/local/miniflare";
import { devKeys, type DevKeys } from "./dev-keys";
import { ensureDatabase } from "./postgres";
import { runJob, startProcess, waitUntilReady, type ServiceProcess } from "./process";
import { ensureRedis } from "./redis";

const ROOT = join(__dirname, "..", "..");
const bundle = (service: string, file: string) => join(ROOT, "dist", service, file);

/** The process entry points, as their images run them. */
export const BUNDLES = {
  auth: bundle("auth", "main.js"),
  migrate: bundle("influencer", "migrate.js"),
  influencer: bundle("influencer", "main.js"),
  settlement: bundle("influencer", "worker.js"),
};

export interface PlatformOptions {
  databaseUrl: string;
  redisUrl: string;
  /** Namespaces every Redis key (and the settlement queue) of this platform instance. */
  redisPrefix: string;
  /** `settlement`: the settlement worker's /health, /ready and /metrics port; any free port when omitted. */
  ports: { edge: number; auth: number; influencer: number; settlement?: number };
  /** Private /metrics listeners; any free port when omitted. */
  metricsPorts?: { auth: number; influencer: number };
  /** Edge KV/R2/DO state folder; in-memory when omitted. */
  edgePersistDir?: string;
  /** Merchant hostnames referral links may point at. */
  merchantDomains: string[];
  keys?: DevKeys;
  /** Every line the services print, prefixed by service name; silent when omitted. */
  log?: (line: string) => void;
  /** Extra environment for the Node services (e.g. LOG_LEVEL). */
  env?: Record<string, string>;
  /** Called as each start-up step begins (`npm start` prints them as progress). */
  progress?: (step: string) => void;
  /** Edge queue consumer overrides, by queue: tests shorten the batch timeout. */
  edgeConsumerBatchTimeoutSeconds?: number;
}

export interface Platform {
  urls: { edge: string; auth: string; influencer: string; settlement?: string };
  keys: DevKeys;
  /** Stops and starts again what runs one bundle (influencer: the migration, the API and the settlement worker), from dist/. */
  restart(bundle: PlatformBundle): Promise<void>;
  stop(): Promise<void>;
}

/** The bundles scripts/build.mjs writes that the platform runs. */
export type PlatformBundle = "edge" | "auth" | "influencer";

/** The environment of each Node service (the migration job and settlement worker share the API's). */
export function serviceEnvironments(
  options: Pick<PlatformOptions, "databaseUrl" | "redisUrl" | "redisPrefix" | "ports" | "metricsPorts" | "merchantDomains" | "env">,
  keys: DevKeys,
  urls: Platform["urls"],
): { auth: Record<string, string>; influencer: Record<string, string> } {
  const common = { TWIST_ENV: "development", LOG_LEVEL: "info", REDIS_URL: options.redisUrl, JWT_KEYS: keys.JWT_KEYS, ...options.env };
  return {
    auth: {
      ...common,
      PORT: String(options.ports.auth),
      METRICS_PORT: String(options.metricsPorts?.auth ?? 0),
      REDIS_PREFIX: `${options.redisPrefix}auth:`,
      SIWS_DOMAIN: `localhost:${options.ports.auth}`,
      SIWS_URI: urls.auth,
      SIWS_CHAIN_ID: "localnet",
    },
    influencer: {
      ...common,
      PORT: String(options.ports.influencer),
      METRICS_PORT: String(options.metricsPorts?.influencer ?? 0),
      DATABASE_URL: options.databaseUrl,
      REDIS_PREFIX: `${options.redisPrefix}influencer:`,
      SETTLEMENT_QUEUE: `${options.redisPrefix.replace(/[^A-Za-z0-9_-]/g, "_")}settlement`,
      SERVICE_SIGNING_KEYS: keys.SERVICE_SIGNING_KEYS,
      MERCHANT_SIGNING_KEYS: keys.MERCHANT_SIGNING_KEYS,
      IP_HASH_SALT: keys.IP_HASH_SALT,
      MERCHANT_DOMAINS: options.merchantDomains.join(","),
      PUBLIC_BASE_URL: urls.influencer,
    },
  };
}

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const keys = options.keys ?? devKeys();
  const log = options.log;
  const progress = options.progress ?? (() => {});
  const host = "127.0.0.1";
  const urls = {
    edge: `http://${host}:${options.ports.edge}`,
    auth: `http://${host}:${options.ports.auth}`,
    influencer: `http://${host}:${options.ports.influencer}`,
    ...(options.ports.settlement ? { settlement: `http://${host}:${options.ports.settlement}` } : {}),
  };
  progress("checking PostgreSQL and Redis");
  await Promise.all([ensureDatabase(options.databaseUrl), ensureRedis(options.redisUrl)]);

  const { auth: authEnv, influencer: influencerEnv } = serviceEnvironments(options, keys, urls);
  const lineFor = (name: string) => (log ? (line: string) => log(`[${name}] ${line}`) : undefined);

  // What runs now, by bundle: restart() replaces one bundle's share, stop() ends them all.
  const running: Partial<Record<"auth" | "influencer", ServiceProcess[]>> = {};
  let edge: RunningEdge | undefined;
  const stopBundle = async (bundle: PlatformBundle) => {
    if (bundle === "edge") {
      await edge?.stop();
      edge = undefined;
    } else {
      await Promise.all((running[bundle] ?? []).map((p) => p.stop()));
      delete running[bundle];
    }
  };
  const stop = async () => {
    await Promise.all((["edge", "auth", "influencer"] as const).map(stopBundle));
  };
  const migrate = () => runJob("migrate", BUNDLES.migrate, influencerEnv, lineFor("migrate"));
  // Each Node bundle's processes, and the one whose /ready says they serve.
  const launch = {
    auth: () => {
      running.auth = [startProcess("auth", BUNDLES.auth, authEnv, lineFor("auth"))];
      return () => waitUntilReady(`${urls.auth}/ready`, running.auth![0]!);
    },
    influencer: () => {
      const influencer = startProcess("influencer", BUNDLES.influencer, influencerEnv, lineFor("influencer"));
      const worker = startProcess("settlement", BUNDLES.settlement, { ...influencerEnv, WORKER_METRICS_PORT: String(options.ports.settlement ?? 0) }, lineFor("settlement"));
      running.influencer = [influencer, worker];
      return () => waitUntilReady(`${urls.influencer}/ready`, influencer);
    },
  };
  const startEdgeWorker = async () => {
    edge = await startEdge({
      listen: options.ports.edge,
      persistDir: options.edgePersistDir,
      env: {},
      vars: {
        ENVIRONMENT: "development",
        BACKEND_URL: urls.influencer,
        JWT_KEYS: keys.JWT_KEYS,
        VAU_SIGNING_KEYS: keys.VAU_SIGNING_KEYS,
        SERVICE_SIGNING_KEYS: keys.SERVICE_SIGNING_KEYS,
        RETRY_BASE_DELAY_SECONDS: "1",
      },
      ...(options.edgeConsumerBatchTimeoutSeconds !== undefined ? { consumerOverrides: { rewards: { maxBatchTimeoutSeconds: options.edgeConsumerBatchTimeoutSeconds } } } : {}),
    });
  };
  const restart = async (bundle: PlatformBundle) => {
    await stopBundle(bundle);
    if (bundle === "edge") return startEdgeWorker();
    if (bundle === "influencer") await migrate();
    await launch[bundle]()();
  };
  try {
    progress("migrating the database");
    await migrate();

    progress("starting auth, the influencer API and the settlement worker");
    const ready = [launch.auth(), launch.influencer()];

    progress("starting the edge Worker in workerd");
    await startEdgeWorker();

    progress("waiting until auth and the influencer API are ready");
    await Promise.all(ready.map((untilReady) => untilReady()));
    return { urls, keys, restart, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
