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

export const kvNamespaces: readonly KvNamespaceDecl[] = [
  { binding: "DEVICES", title: "devices", purpose: "device history for trust scores" },
];

export const r2Buckets: readonly R2BucketDecl[] = [
  { binding: "AUDIT", bucket: "audit", purpose: "batched audit log of ingest requests (allow-listed headers only)", retentionDays: 90 },
];

export const queues: readonly QueueDecl[] = [
  {
    binding: "REWARDS",
    queue: "rewards",
    purpose: "reward messages (contract 4) from ingest to the backend",
    consumer: { maxBatchSize: 50, maxBatchTimeoutSeconds: 5, maxRetries: 5, retryDelaySeconds: 30, deadLetterQueue: "rewards-dlq" },
  },
  { binding: "REWARDS_DLQ", queue: "rewards-dlq", purpose: "reward messages that failed every retry or were rejected by the backend" },
];

export const durableObjects: readonly DurableObjectDecl[] = [
  { binding: "RATE_LIMITER", className: "RateLimiter", purpose: "sliding-window rate limits per wallet and per device" },
  { binding: "DEDUPE", className: "VauDedupe", purpose: "authoritative seen-VAU check, sharded by vauId" },
  { binding: "AGGREGATOR", className: "HourlyAggregator", purpose: "per-UTC-hour ingest totals" },
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
];

/** Plain-text configuration (plain_text bindings). Values come from stack config or local defaults. */
export const vars = [
  "ENVIRONMENT",
  "BACKEND_URL",
  "RATE_LIMIT_WALLET_PER_MINUTE",
  "RATE_LIMIT_DEVICE_PER_MINUTE",
  "VAU_MAX_AGE_SECONDS",
  "MAX_EARNED_PER_VAU",
] as const;

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
