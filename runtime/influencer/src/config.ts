// Influencer API configuration: one joi schema over the environment, validated at start-up. A missing
// or malformed variable stops the process with a message naming it; secrets have no defaults.
import { Joi, configTypes, loadConfig } from "@twist/shared/config";
import type { JwtKeySet } from "@twist/shared/keys";
import type { SmtpSettings } from "./mail/smtp";

export type TwistEnv = "development" | "staging" | "production";
export type AttributionModel = "last-click" | "first-click";

export interface InfluencerConfig {
  PORT: number;
  /** Private listener for GET /metrics (0: any free port); never routed by the tunnel. */
  METRICS_PORT: number;
  TWIST_ENV: TwistEnv;
  LOG_LEVEL: string;
  DATABASE_URL: string;
  REDIS_URL: string;
  REDIS_PREFIX: string;
  JWT_KEYS: JwtKeySet;
  SERVICE_SIGNING_KEYS: string[];
  MERCHANT_SIGNING_KEYS: string[];
  IP_HASH_SALT: string;
  /** Merchant hostnames referral links may point at; a link to a subdomain of one is allowed too. */
  MERCHANT_DOMAINS: string[];
  PUBLIC_BASE_URL: string;
  TRUSTED_PROXY_HEADER?: string;
  /** Conversion currencies accepted from merchants (amounts are integer base-unit strings). */
  CONVERSION_CURRENCIES: string[];
  /** Commission rate in basis points applied when a link has no rate of its own. */
  COMMISSION_DEFAULT_BPS: number;
  ATTRIBUTION_MODEL: AttributionModel;
  ATTRIBUTION_WINDOW_DAYS: number;
  /** Counted redirects per client IP per minute on GET /l/:code. */
  CLICK_RATE_LIMIT_PER_MINUTE: number;
  EMAIL_TOKEN_TTL_MINUTES: number;

  // ---- ledger, pools, rewards, payouts, settlement ----
  /** `ledger` (default: off-chain, marks payouts settled) or `solana` (SPL token transfer). */
  SETTLEMENT_ADAPTER: "ledger" | "solana";
  /** Solana JSON-RPC endpoint (solana adapter only). */
  SOLANA_RPC_URL?: string;
  /** Payer/treasury keypair, base58 64-byte secret key or JSON byte array (secret; solana adapter only). */
  SOLANA_PAYER_SECRET_KEY?: string;
  /** SPL mint of TWIST (solana adapter only). */
  TWIST_MINT?: string;
  /** Smallest payout request, base units. */
  PAYOUT_MIN_AMOUNT: bigint;
  /** Payout fee = PAYOUT_FEE_FLAT + floor(amount * PAYOUT_FEE_BPS / 10000), kept by the platform. */
  PAYOUT_FEE_FLAT: bigint;
  PAYOUT_FEE_BPS: number;
  /** Most reward credits per wallet per UTC day (of the message's receivedAt), base units. */
  REWARD_DAILY_CAP: bigint;
  /** BullMQ queue name of the settlement worker (its key prefix is REDIS_PREFIX + "bull"). */
  SETTLEMENT_QUEUE: string;
  /** Settlement attempts before a payout is voided and its funds returned. */
  SETTLEMENT_ATTEMPTS: number;
  SETTLEMENT_BACKOFF_MS: number;
  /** How often the worker re-enqueues payouts left pending (a lost enqueue, Redis restarted empty). */
  SETTLEMENT_SWEEP_EVERY_SECONDS: number;
  /** A payout pending this long is swept (re-enqueued by its id: never settled twice). */
  SETTLEMENT_STALE_AFTER_SECONDS: number;
  /**
   * BullMQ's lock on a job in hand, renewed while the worker lives: after a worker dies, its jobs
   * are taken up again within about twice this (the lock expires, then the next stalled-job check).
   */
  SETTLEMENT_LOCK_SECONDS: number;
  /** TTL of cached public pool reads. */
  POOL_CACHE_TTL_SECONDS: number;

  // ---- events WebSocket (GET /api/v1/events, contract 7) ----
  /** Browser origins allowed to open the events socket (default: the origin of PUBLIC_BASE_URL). Clients that send no Origin are not browsers and are allowed. */
  EVENTS_ALLOWED_ORIGINS?: string[];
  /** Sockets per wallet and per client IP on one instance. */
  EVENTS_MAX_SOCKETS_PER_WALLET: number;
  EVENTS_MAX_SOCKETS_PER_IP: number;
  /** A socket whose unsent bytes would pass this is dropped (the client is not reading). */
  EVENTS_MAX_BUFFERED_BYTES: number;
  /** Ping period; a socket that has not answered the previous ping is closed. */
  EVENTS_PING_INTERVAL_MS: number;
  /** How long a socket may stay open without authenticating (first-message auth). */
  EVENTS_AUTH_TIMEOUT_MS: number;

  // ---- mail ----
  /** `smtp` (real delivery) or `log` (development only: the log would hold verification links). */
  MAIL_TRANSPORT: "smtp" | "log";
  /** Built from SMTP_HOST, SMTP_PORT, SMTP_TLS, SMTP_USER, SMTP_PASSWORD (secret), MAIL_FROM; smtp only. */
  SMTP?: SmtpSettings;

  // ---- per-wallet write limits, the settlement worker's listener ----
  /** Per-wallet write limits: requests per WRITE_LIMIT_WINDOW_SECONDS (stakes and unstakes, link creation, payout requests). */
  WRITE_LIMIT_WINDOW_SECONDS: number;
  STAKE_LIMIT_PER_WINDOW: number;
  LINK_LIMIT_PER_WINDOW: number;
  PAYOUT_LIMIT_PER_WINDOW: number;
  /** The settlement worker's /health, /ready and /metrics port (0: any free port). */
  WORKER_METRICS_PORT: number;
}

const list = (pattern?: RegExp) =>
  Joi.any().custom((value: unknown, helpers) => {
    if (typeof value !== "string") return helpers.message({ custom: "must be a comma-separated list" });
    const items = value
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    if (items.length === 0) return helpers.message({ custom: "must list at least one entry" });
    const bad = pattern ? items.find((i) => !pattern.test(i)) : undefined;
    if (bad !== undefined) return helpers.message({ custom: `entry "${bad}" is not valid` });
    return items;
  });

/** An amount of base units (contract 5) -> bigint; `allowZero` for fees. */
const baseUnits = (allowZero = false) =>
  Joi.any().custom((value: unknown, helpers) => {
    const text = typeof value === "bigint" ? value.toString() : value;
    if (typeof text !== "string" || !(allowZero ? /^(0|[1-9][0-9]{0,29})$/ : /^[1-9][0-9]{0,29}$/).test(text)) {
      return helpers.message({ custom: `must be a ${allowZero ? "non-negative" : "positive"} integer of base units` });
    }
    return BigInt(text);
  });

/** Joi's typings have no bigint; defaults are not run through custom(), so the value stays a bigint. */
const bigintDefault = (value: bigint) => value as unknown as string;

/** The SMTP variables as validated; loadInfluencerConfig folds them into config.SMTP. */
type RawSmtp = { SMTP_HOST?: string; SMTP_PORT: number; SMTP_TLS: SmtpSettings["tls"]; SMTP_USER?: string; SMTP_PASSWORD?: string; MAIL_FROM?: string; SMTP_TIMEOUT_MS: number };

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export const configSchema = Joi.object<InfluencerConfig & RawSmtp>({
  PORT: configTypes.port().default(3003),
  METRICS_PORT: Joi.number().integer().min(0).max(65535).default(9103),
  TWIST_ENV: Joi.string().valid("development", "staging", "production").default("development"),
  LOG_LEVEL: Joi.string().valid("trace", "debug", "info", "warn", "error", "fatal", "silent").default("info"),
  DATABASE_URL: Joi.string()
    .uri({ scheme: ["postgres", "postgresql"] })
    .required(),
  REDIS_URL: Joi.string()
    .uri({ scheme: ["redis", "rediss"] })
    .required(),
  REDIS_PREFIX: Joi.string().max(100).default("twist:influencer:"),
  JWT_KEYS: configTypes.jwtKeySet().required(),
  SERVICE_SIGNING_KEYS: configTypes.signingKeys().required(),
  MERCHANT_SIGNING_KEYS: configTypes.signingKeys().required(),
  IP_HASH_SALT: Joi.string().min(16).required(),
  MERCHANT_DOMAINS: list(HOSTNAME).required(),
  PUBLIC_BASE_URL: configTypes.url().required(),
  TRUSTED_PROXY_HEADER: Joi.string()
    .pattern(/^[A-Za-z0-9-]{1,64}$/)
    .optional(),
  CONVERSION_CURRENCIES: Joi.any()
    .custom((value: unknown, helpers) => {
      if (typeof value !== "string") return helpers.message({ custom: "must be a comma-separated list" });
      const items = value
        .split(",")
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean);
      if (!items.length || items.some((i) => !/^[A-Z][A-Z0-9]{1,9}$/.test(i))) return helpers.message({ custom: "must list currency codes like TWIST" });
      return items;
    })
    .default(["TWIST"]),
  COMMISSION_DEFAULT_BPS: Joi.number().integer().min(0).max(10_000).default(1000),
  ATTRIBUTION_MODEL: Joi.string().valid("last-click", "first-click").default("last-click"),
  ATTRIBUTION_WINDOW_DAYS: Joi.number().integer().min(1).max(365).default(30),
  CLICK_RATE_LIMIT_PER_MINUTE: Joi.number().integer().min(1).max(1_000_000).default(120),
  EMAIL_TOKEN_TTL_MINUTES: Joi.number()
    .integer()
    .min(1)
    .max(7 * 24 * 60)
    .default(24 * 60),

  // ---- ledger, pools, rewards, payouts, settlement ----
  SETTLEMENT_ADAPTER: Joi.string().valid("ledger", "solana").default("ledger"),
  SOLANA_RPC_URL: Joi.when("SETTLEMENT_ADAPTER", { is: "solana", then: configTypes.url().required(), otherwise: configTypes.url().optional() }),
  SOLANA_PAYER_SECRET_KEY: Joi.when("SETTLEMENT_ADAPTER", { is: "solana", then: Joi.string().min(64).required(), otherwise: Joi.string().optional() }),
  TWIST_MINT: Joi.when("SETTLEMENT_ADAPTER", {
    is: "solana",
    then: Joi.string()
      .pattern(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/)
      .required(),
    otherwise: Joi.string()
      .pattern(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/)
      .optional(),
  }),
  PAYOUT_MIN_AMOUNT: baseUnits().default(bigintDefault(10_000_000_000n)), // 10 TWIST
  PAYOUT_FEE_FLAT: baseUnits(true).default(bigintDefault(100_000_000n)), // 0.1 TWIST
  PAYOUT_FEE_BPS: Joi.number().integer().min(0).max(1000).default(50),
  REWARD_DAILY_CAP: baseUnits().default(bigintDefault(1_000_000_000_000n)), // 1,000 TWIST
  SETTLEMENT_QUEUE: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,64}$/)
    .default("payout-settlement"),
  SETTLEMENT_ATTEMPTS: Joi.number().integer().min(1).max(50).default(5),
  SETTLEMENT_BACKOFF_MS: Joi.number().integer().min(10).max(3_600_000).default(5000),
  SETTLEMENT_SWEEP_EVERY_SECONDS: Joi.number().integer().min(1).max(3600).default(60),
  SETTLEMENT_STALE_AFTER_SECONDS: Joi.number().integer().min(1).max(86_400).default(120),
  SETTLEMENT_LOCK_SECONDS: Joi.number().integer().min(2).max(600).default(30),
  POOL_CACHE_TTL_SECONDS: Joi.number().integer().min(1).max(3600).default(30),

  // ---- events WebSocket ----
  EVENTS_ALLOWED_ORIGINS: Joi.any()
    .custom((value: unknown, helpers) => {
      if (typeof value !== "string") return helpers.message({ custom: "must be a comma-separated list of origins" });
      const items = value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = items.find((i) => !/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(i));
      if (!items.length || bad !== undefined) return helpers.message({ custom: `entry "${bad ?? ""}" is not an origin like https://app.example.com` });
      return items.map((i) => i.toLowerCase());
    })
    .optional(),
  EVENTS_MAX_SOCKETS_PER_WALLET: Joi.number().integer().min(1).max(1000).default(10),
  EVENTS_MAX_SOCKETS_PER_IP: Joi.number().integer().min(1).max(1_000_000).default(200),
  EVENTS_MAX_BUFFERED_BYTES: Joi.number()
    .integer()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  EVENTS_PING_INTERVAL_MS: Joi.number().integer().min(100).max(600_000).default(30_000),
  EVENTS_AUTH_TIMEOUT_MS: Joi.number().integer().min(100).max(60_000).default(5000),

  // ---- mail ----
  MAIL_TRANSPORT: Joi.when("TWIST_ENV", {
    is: "development",
    then: Joi.string().valid("smtp", "log").default("log"),
    otherwise: Joi.string().valid("smtp").required().messages({
      "any.only": "must be smtp outside development (the log transport would write verification links to the log)",
      "any.required": "is required outside development: set smtp and the SMTP_* variables",
    }),
  }),
  SMTP_HOST: Joi.when("MAIL_TRANSPORT", { is: "smtp", then: Joi.string().hostname().required(), otherwise: Joi.string().hostname().optional() }),
  SMTP_PORT: configTypes.port().default(587),
  SMTP_TLS: Joi.when("TWIST_ENV", {
    is: "development",
    then: Joi.string().valid("implicit", "starttls", "none").default("starttls"),
    otherwise: Joi.string().valid("implicit", "starttls").default("starttls").messages({ "any.only": "must be implicit or starttls outside development" }),
  }),
  SMTP_USER: Joi.string().max(256).optional(),
  SMTP_PASSWORD: Joi.when("SMTP_USER", { is: Joi.exist(), then: Joi.string().min(1).required(), otherwise: Joi.forbidden() }),
  MAIL_FROM: Joi.when("MAIL_TRANSPORT", {
    is: "smtp",
    then: Joi.string()
      .max(256)
      .pattern(/^([^<>\r\n]*<[^@\s<>]+@[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+)$/)
      .required(),
    otherwise: Joi.string().optional(),
  }),
  SMTP_TIMEOUT_MS: Joi.number().integer().min(100).max(120_000).default(10_000),

  // ---- per-wallet write limits, the settlement worker's listener ----
  WRITE_LIMIT_WINDOW_SECONDS: Joi.number().integer().min(1).max(86_400).default(60),
  STAKE_LIMIT_PER_WINDOW: Joi.number().integer().min(1).max(1_000_000).default(30),
  LINK_LIMIT_PER_WINDOW: Joi.number().integer().min(1).max(1_000_000).default(20),
  PAYOUT_LIMIT_PER_WINDOW: Joi.number().integer().min(1).max(1_000_000).default(5),
  WORKER_METRICS_PORT: Joi.number().integer().min(0).max(65535).default(3004),
});

export function loadInfluencerConfig(env: Record<string, string | undefined> = process.env): InfluencerConfig {
  const { SMTP_HOST, SMTP_PORT, SMTP_TLS, SMTP_USER, SMTP_PASSWORD, MAIL_FROM, SMTP_TIMEOUT_MS, ...config } = loadConfig(configSchema, env);
  if (config.MAIL_TRANSPORT === "smtp") {
    config.SMTP = { host: SMTP_HOST!, port: SMTP_PORT, tls: SMTP_TLS, user: SMTP_USER, password: SMTP_PASSWORD, from: MAIL_FROM!, timeoutMs: SMTP_TIMEOUT_MS };
  }
  return config;
}

export type MigrateConfig = Pick<InfluencerConfig, "DATABASE_URL" | "LOG_LEVEL">;

/** The migration job's variables, checked by the same rules as the API's. */
export function loadMigrateConfig(env: Record<string, string | undefined> = process.env): MigrateConfig {
  return loadConfig(Joi.object<MigrateConfig>({ DATABASE_URL: configSchema.extract("DATABASE_URL"), LOG_LEVEL: configSchema.extract("LOG_LEVEL") }), env);
}
