// Worker configuration from its bindings. A Worker cannot refuse to start, so the configuration is
// validated on first use and every request answers 503 UNAVAILABLE naming the bad variables until
// it is fixed.
import { optionalVars, queues, type OptionalVarName } from "../bindings";
import { parseAmount } from "@twist/shared/amount";
import { parseJwtKeySet, parseSigningKeys, type JwtKeySet } from "@twist/shared/keys";
import { BINDING_KINDS, type Env } from "./env";

export type Environment = "development" | "staging" | "production";

export interface EdgeConfig {
  environment: Environment;
  backendUrl: URL;
  walletPerMinute: number;
  devicePerMinute: number;
  maxAgeMs: number;
  maxSkewMs: number;
  maxEarnedPerVau: bigint;
  retryBaseDelaySeconds: number;
  batchFlushMs: number;
  corsOrigins: "*" | string[];
  jwtKeys: JwtKeySet;
  /** Empty only in development, where the signature check is skipped. */
  vauSigningKeys: string[];
  serviceSigningKeys: string[];
}

export type ConfigResult = { ok: true; config: EdgeConfig } | { ok: false; problems: string[] };

const cache = new WeakMap<object, ConfigResult>();

/** Parses once per env object (one per isolate) and remembers the answer. */
export function loadConfig(env: Env): ConfigResult {
  let result = cache.get(env);
  if (!result) {
    result = parseConfig(env);
    cache.set(env, result);
  }
  return result;
}

export function parseConfig(env: Env): ConfigResult {
  const problems: string[] = [];
  const need = <T>(name: string, parse: (raw: string) => T): T | undefined => {
    const raw = (env as unknown as Record<string, unknown>)[name];
    if (typeof raw !== "string" || raw.trim() === "") {
      problems.push(`${name} is not set`);
      return undefined;
    }
    try {
      return parse(raw.trim());
    } catch (err) {
      problems.push(`${name} is invalid: ${(err as Error).message}`);
      return undefined;
    }
  };
  const optional = <T>(name: OptionalVarName, parse: (raw: string) => T): T | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === "" ? parse(optionalVars[name]) : need(name, parse);
  };

  for (const [binding, kind] of Object.entries(BINDING_KINDS)) {
    if (!(env as unknown as Record<string, unknown>)[binding]) problems.push(`${binding} (${kind} binding) is missing`);
  }
  const environment = need("ENVIRONMENT", (raw) => {
    if (raw !== "development" && raw !== "staging" && raw !== "production") throw new Error("must be development, staging or production");
    return raw as Environment;
  });
  const backendUrl = need("BACKEND_URL", (raw) => {
    const url = new URL(raw);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("must be an http(s) URL");
    if (environment === "production" && url.protocol !== "https:") throw new Error("must be https in production");
    return url;
  });
  const walletPerMinute = need("RATE_LIMIT_WALLET_PER_MINUTE", rateLimit);
  const devicePerMinute = need("RATE_LIMIT_DEVICE_PER_MINUTE", rateLimit);
  const maxAgeSeconds = need("VAU_MAX_AGE_SECONDS", positiveInt);
  const maxEarnedPerVau = need("MAX_EARNED_PER_VAU", (raw) => parseAmount(raw));
  const jwtKeys = need("JWT_KEYS", parseJwtKeySet);
  // The VAU signature may be skipped only in development; everywhere else its keys are required.
  const vauSigningKeys = environment === "development" && !env.VAU_SIGNING_KEYS ? [] : need("VAU_SIGNING_KEYS", parseSigningKeys);
  const serviceSigningKeys = need("SERVICE_SIGNING_KEYS", parseSigningKeys);
  const maxSkewSeconds = optional("VAU_MAX_SKEW_SECONDS", nonNegativeInt);
  const retryBaseDelaySeconds = optional("RETRY_BASE_DELAY_SECONDS", nonNegativeInt);
  const batchFlushMs = optional("BATCH_FLUSH_MS", nonNegativeInt);
  const corsOrigins = optional("CORS_ALLOWED_ORIGINS", (raw) => {
    if (raw === "*") return "*" as const;
    const origins = raw.split(",").map((o) => o.trim());
    for (const o of origins) if (new URL(o).origin !== o) throw new Error(`"${o}" is not an origin`);
    return origins;
  });

  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    config: {
      environment: environment!,
      backendUrl: backendUrl!,
      walletPerMinute: walletPerMinute!,
      devicePerMinute: devicePerMinute!,
      maxAgeMs: maxAgeSeconds! * 1000,
      maxSkewMs: maxSkewSeconds! * 1000,
      maxEarnedPerVau: maxEarnedPerVau!,
      retryBaseDelaySeconds: retryBaseDelaySeconds!,
      batchFlushMs: batchFlushMs!,
      corsOrigins: corsOrigins!,
      jwtKeys: jwtKeys!,
      vauSigningKeys: vauSigningKeys!,
      serviceSigningKeys: serviceSigningKeys!,
    },
  };
}

function positiveInt(raw: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) throw new Error("must be a positive integer");
  return Number(raw);
}

/** The sliding-window log keeps one entry per allowed request, so limits stay in the hundreds. */
export const MAX_RATE_LIMIT_PER_MINUTE = 1000;

function rateLimit(raw: string): number {
  const n = positiveInt(raw);
  if (n > MAX_RATE_LIMIT_PER_MINUTE) throw new Error(`must be at most ${MAX_RATE_LIMIT_PER_MINUTE}`);
  return n;
}

function nonNegativeInt(raw: string): number {
  if (!/^(0|[1-9][0-9]{0,8})$/.test(raw)) throw new Error("must be a non-negative integer");
  return Number(raw);
}

/** The queue consumer declaration (maxRetries etc.) from bindings.ts. */
export const REWARDS_CONSUMER = queues.find((q) => q.binding === "REWARDS")!.consumer!;
