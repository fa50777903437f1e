// Influencer API configuration: one joi schema over the environment, validated at start-up. A missing
// or malformed variable stops the process with a message naming it; secrets have no defaults.
import { Joi, configTypes, loadConfig } from "@twist/shared/config";
import type { JwtKeySet } from "@twist/shared/keys";

export type TwistEnv = "development" | "staging" | "production";
export type AttributionModel = "last-click" | "first-click";

export interface InfluencerConfig {
  PORT: number;
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

  // ---- part 2 (ledger, pools, rewards, payouts, settlement): add variables below this line ----
}

const list = (pattern?: RegExp) =>
  Joi.any().custom((value: unknown, helpers) => {
    if (typeof value !== "string") return helpers.message({ custom: "must be a comma-separated list" });
    const items = value.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
    if (items.length === 0) return helpers.message({ custom: "must list at least one entry" });
    const bad = pattern ? items.find((i) => !pattern.test(i)) : undefined;
    if (bad !== undefined) return helpers.message({ custom: `entry "${bad}" is not valid` });
    return items;
  });

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export const configSchema = Joi.object<InfluencerConfig>({
  PORT: configTypes.port().default(3003),
  TWIST_ENV: Joi.string().valid("development", "staging", "production").default("development"),
  LOG_LEVEL: Joi.string().valid("trace", "debug", "info", "warn", "error", "fatal", "silent").default("info"),
  DATABASE_URL: Joi.string().uri({ scheme: ["postgres", "postgresql"] }).required(),
  REDIS_URL: Joi.string().uri({ scheme: ["redis", "rediss"] }).required(),
  REDIS_PREFIX: Joi.string().max(100).default("twist:influencer:"),
  JWT_KEYS: configTypes.jwtKeySet().required(),
  SERVICE_SIGNING_KEYS: configTypes.signingKeys().required(),
  MERCHANT_SIGNING_KEYS: configTypes.signingKeys().required(),
  IP_HASH_SALT: Joi.string().min(16).required(),
  MERCHANT_DOMAINS: list(HOSTNAME).required(),
  PUBLIC_BASE_URL: configTypes.url().required(),
  TRUSTED_PROXY_HEADER: Joi.string().pattern(/^[A-Za-z0-9-]{1,64}$/).optional(),
  CONVERSION_CURRENCIES: Joi.any()
    .custom((value: unknown, helpers) => {
      if (typeof value !== "string") return helpers.message({ custom: "must be a comma-separated list" });
      const items = value.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
      if (!items.length || items.some((i) => !/^[A-Z][A-Z0-9]{1,9}$/.test(i))) return helpers.message({ custom: "must list currency codes like TWIST" });
      return items;
    })
    .default(["TWIST"]),
  COMMISSION_DEFAULT_BPS: Joi.number().integer().min(0).max(10_000).default(1000),
  ATTRIBUTION_MODEL: Joi.string().valid("last-click", "first-click").default("last-click"),
  ATTRIBUTION_WINDOW_DAYS: Joi.number().integer().min(1).max(365).default(30),
  CLICK_RATE_LIMIT_PER_MINUTE: Joi.number().integer().min(1).max(1_000_000).default(120),
  EMAIL_TOKEN_TTL_MINUTES: Joi.number().integer().min(1).max(7 * 24 * 60).default(24 * 60),

  // ---- part 2 (ledger, pools, rewards, payouts, settlement): add keys below this line ----
});

export function loadInfluencerConfig(env: Record<string, string | undefined> = process.env): InfluencerConfig {
  return loadConfig(configSchema, env);
}
