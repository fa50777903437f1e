// The one way to run the edge Worker locally: Miniflare (real workerd) configured from the same
// bindings declaration the Pulumi program deploys (../bindings.ts), loading the real bundle
// dist/edge/index.js. `npm start` and the tests both use it.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { Miniflare, type MiniflareOptions, type WorkerOptions } from "miniflare";
import {
  analyticsDatasets,
  durableObjects,
  kvNamespaces,
  optionalVars,
  queues,
  r2Buckets,
  secrets,
  vars,
  WORKER,
  type QueueConsumerDecl,
  type SecretName,
  type VarName,
} from "../bindings";

export const REPO_ROOT = resolve(__dirname, "..", "..", "..");
export const EDGE_BUNDLE = join(REPO_ROOT, "dist", "edge", WORKER.mainModule);
export const DEFAULT_EDGE_PORT = 8787;

/** Local defaults for the plain-text vars; secrets have none and come from the environment. */
export const LOCAL_VAR_DEFAULTS: Record<VarName, string> = {
  ENVIRONMENT: "development",
  BACKEND_URL: "http://127.0.0.1:3003",
  RATE_LIMIT_WALLET_PER_MINUTE: "120",
  RATE_LIMIT_DEVICE_PER_MINUTE: "60",
  VAU_MAX_AGE_SECONDS: "300",
  MAX_EARNED_PER_VAU: "1000000000",
};

export interface EdgeRunnerOptions {
  /** Where vars and secrets are read from (default process.env); `vars` below win. */
  env?: Record<string, string | undefined>;
  /** Explicit values for vars, optional vars and secrets. */
  vars?: Partial<Record<VarName | SecretName | keyof typeof optionalVars, string>>;
  /** Folder for KV, R2, Durable Object and queue state; in-memory when omitted. */
  persistDir?: string;
  /** true: listen on DEFAULT_EDGE_PORT (8787); a number: that port; omitted: any free port (tests). */
  listen?: boolean | number;
  host?: string;
  /** Per-queue consumer settings overriding bindings.ts, by logical queue name (tests: short timeouts). */
  consumerOverrides?: Record<string, Partial<QueueConsumerDecl>>;
  /** Extra workers in the same runtime (tests: an observer consuming the dead-letter queue). */
  extraWorkers?: WorkerOptions[];
  /** Path of the bundle; default dist/edge/index.js. */
  bundlePath?: string;
  /** Forward the Worker's console output (default false). */
  verbose?: boolean;
}

/** Miniflare options derived from bindings.ts. */
export function edgeMiniflareOptions(options: EdgeRunnerOptions = {}): MiniflareOptions {
  const bundle = options.bundlePath ?? EDGE_BUNDLE;
  if (!existsSync(bundle)) {
    throw new Error(`edge bundle ${bundle} is missing: build it first with \`node scripts/build.mjs edge\``);
  }
  const source = options.env ?? process.env;
  const bindings: Record<string, string> = {};
  for (const name of vars) {
    const value = options.vars?.[name] ?? source[name] ?? LOCAL_VAR_DEFAULTS[name];
    bindings[name] = value;
  }
  for (const name of Object.keys(optionalVars) as (keyof typeof optionalVars)[]) {
    const value = options.vars?.[name] ?? source[name];
    if (value !== undefined) bindings[name] = value;
  }
  // A missing secret stays missing: the Worker then answers 503 naming it.
  for (const name of secrets) {
    const value = options.vars?.[name] ?? source[name];
    if (value !== undefined) bindings[name] = value;
  }

  const queueProducers: Record<string, { queueName: string }> = {};
  const queueConsumers: Record<string, { maxBatchSize: number; maxBatchTimeout: number; maxRetries: number; retryDelay: number; deadLetterQueue: string }> = {};
  for (const q of queues) {
    if (q.binding) queueProducers[q.binding] = { queueName: q.queue };
    if (q.consumer) {
      const c = { ...q.consumer, ...options.consumerOverrides?.[q.queue] };
      queueConsumers[q.queue] = {
        maxBatchSize: c.maxBatchSize,
        maxBatchTimeout: c.maxBatchTimeoutSeconds,
        maxRetries: c.maxRetries,
        retryDelay: c.retryDelaySeconds,
        deadLetterQueue: c.deadLetterQueue,
      };
    }
  }

  const persist = options.persistDir;
  const worker: WorkerOptions = {
    name: WORKER.name,
    modules: true,
    scriptPath: bundle,
    compatibilityDate: WORKER.compatibilityDate,
    compatibilityFlags: [...WORKER.compatibilityFlags],
    kvNamespaces: Object.fromEntries(kvNamespaces.map((k) => [k.binding, k.title])),
    r2Buckets: Object.fromEntries(r2Buckets.map((r) => [r.binding, r.bucket])),
    durableObjects: Object.fromEntries(durableObjects.map((d) => [d.binding, { className: d.className, useSQLite: true }])),
    analyticsEngineDatasets: Object.fromEntries(analyticsDatasets.map((a) => [a.binding, { dataset: a.dataset }])),
    queueProducers,
    queueConsumers,
    bindings,
  };
  return {
    workers: [worker, ...(options.extraWorkers ?? [])],
    port: options.listen === true ? DEFAULT_EDGE_PORT : typeof options.listen === "number" ? options.listen : 0,
    host: options.host ?? "127.0.0.1",
    ...(persist
      ? {
          kvPersist: join(persist, "kv"),
          r2Persist: join(persist, "r2"),
          durableObjectsPersist: join(persist, "do"),
          cachePersist: join(persist, "cache"),
        }
      : {}),
    // Quiet mode still drains workerd's output so a full pipe can never stall it.
    ...(options.verbose
      ? {}
      : {
          handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
            stdout.resume();
            stderr.resume();
          },
        }),
  } as MiniflareOptions;
}

export interface RunningEdge {
  mf: Miniflare;
  /** Base URL, e.g. http://127.0.0.1:8787/ */
  url: URL;
  stop(): Promise<void>;
}

/** Starts the Worker in workerd and waits until it listens. */
export async function startEdge(options: EdgeRunnerOptions = {}): Promise<RunningEdge> {
  const mf = new Miniflare(edgeMiniflareOptions(options));
  let url: URL;
  try {
    url = await mf.ready;
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  }
  let stopped = false;
  return {
    mf,
    url,
    async stop() {
      if (stopped) return;
      stopped = true;
      await mf.dispose();
    },
  };
}

// `npx tsx runtime/edge/local/miniflare.ts`: the Worker on 127.0.0.1:8787 with state kept in
// .local/edge (git-ignored; EDGE_PERSIST_DIR overrides), vars and secrets from the environment.
if (require.main === module) {
  startEdge({ listen: Number(process.env.EDGE_PORT ?? DEFAULT_EDGE_PORT), persistDir: process.env.EDGE_PERSIST_DIR ?? join(REPO_ROOT, ".local", "edge"), verbose: true }).then(
    (edge) => {
      console.log(`edge Worker listening on ${edge.url.href}`);
      const stop = () => void edge.stop().then(() => process.exit(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    },
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
