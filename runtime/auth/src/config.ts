// Environment configuration of the sign-in service, validated once at start-up (contract 6): a bad or
// missing variable stops the process with a ConfigError naming it. Secrets (JWT_KEYS) have no default.
import { Joi, configTypes, loadConfig } from "@twist/shared/config";
import type { JwtKeySet } from "@twist/shared/keys";

export const SIWS_CHAIN_IDS = ["mainnet", "devnet", "testnet", "localnet"] as const;
export type SiwsChainId = (typeof SIWS_CHAIN_IDS)[number];

export interface AuthConfig {
  PORT: number;
  /** Private listener for GET /metrics (0: any free port); never routed by the tunnel. */
  METRICS_PORT: number;
  TWIST_ENV: "development" | "staging" | "production";
  LOG_LEVEL: string;
  REDIS_URL: string;
  REDIS_PREFIX: string;
  JWT_KEYS: JwtKeySet;
  /** The domain the wallet shows ("<domain> wants you to sign in"), e.g. app.twist.example. */
  SIWS_DOMAIN: string;
  /** The URI line of the message, e.g. https://app.twist.example. */
  SIWS_URI: string;
  SIWS_CHAIN_ID: SiwsChainId;
  /** Header set by our own reverse proxy that carries the client IP; unset = the socket address. */
  TRUSTED_PROXY_HEADER?: string;
  RATE_LIMIT_WINDOW_SECONDS: number;
  /** Requests to /auth/nonce and /auth/verify per client IP per window. */
  RATE_LIMIT_PER_IP: number;
  /** Sign-ins with a valid signature per wallet address per window (a stranger cannot spend it). */
  RATE_LIMIT_PER_WALLET: number;
}

const positive = () => Joi.number().integer().min(1);

export const authConfigSchema = Joi.object<AuthConfig>({
  PORT: configTypes.port().default(3001),
  METRICS_PORT: Joi.number().integer().min(0).max(65535).default(9101),
  TWIST_ENV: Joi.string().valid("development", "staging", "production").default("development"),
  LOG_LEVEL: Joi.string().valid("fatal", "error", "warn", "info", "debug", "trace", "silent").default("info"),
  REDIS_URL: configTypes.url(["redis", "rediss"]).required(),
  REDIS_PREFIX: Joi.string()
    .pattern(/^[A-Za-z0-9:._-]{1,64}$/)
    .default("twist:auth:"),
  JWT_KEYS: configTypes.jwtKeySet().required(),
  // host or host:port, as a browser origin shows it; no scheme, path or whitespace.
  SIWS_DOMAIN: Joi.string()
    .pattern(/^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/)
    .max(253)
    .required(),
  SIWS_URI: configTypes.url().pattern(/^\S+$/).required(),
  SIWS_CHAIN_ID: Joi.string()
    .valid(...SIWS_CHAIN_IDS)
    .required(),
  TRUSTED_PROXY_HEADER: Joi.string().pattern(/^[A-Za-z0-9-]{1,64}$/),
  RATE_LIMIT_WINDOW_SECONDS: positive().max(86_400).default(60),
  RATE_LIMIT_PER_IP: positive().default(60),
  RATE_LIMIT_PER_WALLET: positive().default(12),
});

export function loadAuthConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  return loadConfig(authConfigSchema, env);
}
