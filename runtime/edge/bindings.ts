// The edge Worker's bindings, declared once. The Pulumi program (infra/) turns this into the
// WorkersScript's bindings, migrations and queue consumer; the local Miniflare runner and the tests
// turn it into Miniflare options. Change a binding here and both follow.
//
// Logical names below become physical names per stack in infra: twist-<logical>-<stack>.

export const WORKER = {
  /** Logical script name; deployed as twist-vau-<stack>. */
  name: "vau",
  mainModule: "index.js",
  compatibilityDate: "2025-09-01",
  compatibilityFlags: [] as string[],
} as const;

export interface KvNamespaceDecl {
  binding: string;
  /** Logical namespace title. */
  title: string;
  purpose: string;
}

export interface R2BucketDecl {
  binding: string;
  bucket: string;
  purpose: string;
  /** Objects older than this are deleted by a lifecycle rule. */
  retentionDays: number;
}

export interface QueueConsumerDecl {
  maxBatchSize: number;
  maxBatchTimeoutSeconds: number;
  maxRetries: number;
  retryDelaySeconds: number;
  /** Logical name of the dead-letter queue. */
  deadLetterQueue: string;
}

export interface QueueDecl {
  /** Producer binding name; omitted for a queue the Worker only consumes. */
  binding?: string;
  queue: string;
  purpose: string;
  /** Present when this Worker consumes the queue. */
  consumer?: QueueConsumerDecl;
}

export interface DurableObjectDecl {
  binding: string;
  className: string;
  purpose: string;
}

export interface AnalyticsDatasetDecl {
  binding: string;
  /** Logical dataset name; deployed as twist_<logical>_<stack> (Analytics Engine creates it on first write). */
  dataset: string;
  purpose: string;
}

export const kvNamespaces: readonly KvNamespaceDecl[] = [
  // Read only: histories written by versions before the WalletGate are imported on a device's first
  // VAU (docs/edge.md, "first deploy of the WalletGate"); nothing writes here any more.
  { binding: "DEVICES", title: "devices", purpose: "legacy device histories, imported once into the wallet's WalletGate" },
];

export const r2Buckets: readonly R2BucketDecl[] = [
  { binding: "AUDIT", bucket: "audit", purpose: "batched audit log of ingest requests (allow-listed headers only)", retentionDays: 90 },
];

export const queues: readonly QueueDecl[] = [
  {
    binding: "REWARDS",
    queue: "rewards",
    purpose: "reward messages (contract 4) from ingest to the backend",
    // A batch fills one backend delivery (MAX_DELIVERY_BATCH): half as many requests as batches of 50.
    consumer: { maxBatchSize: 100, maxBatchTimeoutSeconds: 5, maxRetries: 5, retryDelaySeconds: 30, deadLetterQueue: "rewards-dlq" },
  },
  { binding: "REWARDS_DLQ", queue: "rewards-dlq", purpose: "reward messages that failed every retry or were rejected by the backend" },
];

export const durableObjects: readonly DurableObjectDecl[] = [
  {
    binding: "WALLETS",
    className: "WalletGate",
    purpose: "one object per wallet: its and its devices' rate-limit windows, seen vauIds and device histories",
  },
  { binding: "AGGREGATOR", className: "HourlyAggregator", purpose: "per-UTC-hour ingest totals" },
];

export const analyticsDatasets: readonly AnalyticsDatasetDecl[] = [
  { binding: "ANALYTICS", dataset: "edge_requests", purpose: "one data point per request: route, status, outcome, latency bucket" },
  { binding: "DEAD_LETTERS", dataset: "edge_dead_letters", purpose: "one data point per reward message dead-lettered: cause, attempts" },
];

/**
 * One Durable Object migration step. Steps are append-only: a deployed tag is never edited or
 * removed, a change of classes is a new step with a new tag. The Free plan allows only SQLite-backed
 * classes, so new classes are always `newSqliteClasses`.
 */
export interface DurableObjectMigrationDecl {
  tag: string;
  newSqliteClasses?: string[];
  renamedClasses?: { from: string; to: string }[];
  deletedClasses?: string[];
}

/** Durable Object migrations in order; infra sends the live script only the steps after its tag. */
export const migrations: readonly DurableObjectMigrationDecl[] = [
  { tag: "v1", newSqliteClasses: ["RateLimiter", "VauDedupe", "HourlyAggregator"] },
  // The per-wallet gate replaces the two hot-path classes (docs/edge.md, "first deploy of the
  // WalletGate"). RateLimiter's objects, named wallet:<address> as the gate's are, become the gates
  // of their wallets; their at most 61 s of window state is swept by the gate's first alarm.
  // VauDedupe is not deleted here: its claims may be live, so it stays as a draining class whose
  // alarms delete them; a later version deletes it once they have all expired.
  { tag: "v2", renamedClasses: [{ from: "RateLimiter", to: "WalletGate" }] },
];

/** Classes the bundle must still export although no binding reaches them (they drain their storage). */
export const drainingClasses = ["VauDedupe"] as const;

/** Plain-text configuration (plain_text bindings). Values come from stack config or local defaults. */
export const vars = ["ENVIRONMENT", "BACKEND_URL", "RATE_LIMIT_WALLET_PER_MINUTE", "RATE_LIMIT_DEVICE_PER_MINUTE", "VAU_MAX_AGE_SECONDS", "MAX_EARNED_PER_VAU"] as const;

/** Secrets (secret_text bindings); never plain text, never in the bundle. */
export const secrets = ["JWT_KEYS", "VAU_SIGNING_KEYS", "SERVICE_SIGNING_KEYS"] as const;

/**
 * Optional plain-text tuning (plain_text bindings when set). The Worker falls back to these defaults
 * when a value is absent, so a stack only sets what it wants to change.
 */
export const optionalVars = {
  /** How far a VAU timestamp may lie in the future (client clock ahead of the edge). */
  VAU_MAX_SKEW_SECONDS: "60",
  /** Base of the consumer's exponential backoff: delay = base * 2^(attempts-1), capped at 12 h. */
  RETRY_BASE_DELAY_SECONDS: "30",
  /** How long audit entries and hourly totals are collected in the isolate before one write. */
  BATCH_FLUSH_MS: "1000",
  /** Comma-separated origins allowed by CORS, or "*". */
  CORS_ALLOWED_ORIGINS: "*",
} as const;

export type VarName = (typeof vars)[number];
export type OptionalVarName = keyof typeof optionalVars;
export type SecretName = (typeof secrets)[number];
