// Fixed-window rate limits in Redis (one atomic INCR+PEXPIRE script), shared by every replica.
// Redis down means 503, never "allow": a limiter that fails open is no limiter.
import type { ServerResponse } from "node:http";
import type { NextFunction, Request, Response } from "express";
import type Redis from "ioredis";
import { rateLimited, secondsToWait } from "@twist/shared/errors";
import { redisOp } from "./redis";

/**
 * The window step as a Lua fragment (KEYS[1] the counter, ARGV[1] the window in ms), so a script that
 * does more in the same round trip (the click redirect) counts exactly the same way.
 */
export const RATE_LIMIT_LUA = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])`;

const SCRIPT = `${RATE_LIMIT_LUA}
return {count, ttl}`;

/** Redis key of a rule's counter for one subject. */
export const rateLimitKey = (rule: RateLimitRule, subject: string) => `rl:${rule.name}:${subject}`;

export interface RateLimitRule {
  /** Distinguishes limiters in keys and messages, e.g. "nonce-ip". */
  name: string;
  limit: number;
  windowSeconds: number;
}

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

type WithRateLimitCommand = Redis & { twistRateLimit(key: string, windowMs: string): Promise<[number, number]> };

/** Registers the script once per client; ioredis then calls it by SHA (EVALSHA) instead of sending its text. */
function withCommand(redis: Redis): WithRateLimitCommand {
  if (!("twistRateLimit" in redis)) redis.defineCommand("twistRateLimit", { numberOfKeys: 1, lua: SCRIPT });
  return redis as WithRateLimitCommand;
}

export async function hitRateLimit(redis: Redis, rule: RateLimitRule, subject: string): Promise<RateLimitResult> {
  const [count, ttl] = await redisOp(() => withCommand(redis).twistRateLimit(rateLimitKey(rule, subject), String(rule.windowSeconds * 1000)));
  return rateLimitResult(rule, count, ttl);
}

/** The outcome of a window step that counted `count` hits with `ttl` ms of the window left. */
export function rateLimitResult(rule: RateLimitRule, count: number, ttl: number): RateLimitResult {
  const resetSeconds = secondsToWait(ttl > 0 ? ttl : rule.windowSeconds * 1000);
  return { allowed: count <= rule.limit, limit: rule.limit, remaining: Math.max(0, rule.limit - count), resetSeconds };
}

/**
 * Sets X-RateLimit-* headers and throws 429 (with Retry-After) when the subject is over the limit.
 * When a request passes several limits, the headers describe the tightest one (least remaining).
 */
export async function enforceRateLimit(redis: Redis, rule: RateLimitRule, subject: string, res: ServerResponse): Promise<void> {
  applyRateLimit(res, rule, await hitRateLimit(redis, rule, subject));
}

/** The headers and the 429 of enforceRateLimit, for a result counted elsewhere (rateLimitResult). */
export function applyRateLimit(res: ServerResponse, rule: RateLimitRule, result: RateLimitResult): void {
  const shown = res.getHeader("X-RateLimit-Remaining");
  if (shown === undefined || result.remaining < Number(shown)) {
    res.setHeader("X-RateLimit-Limit", String(result.limit));
    res.setHeader("X-RateLimit-Remaining", String(result.remaining));
    res.setHeader("X-RateLimit-Reset", String(result.resetSeconds));
  }
  if (!result.allowed) throw rateLimited(result.resetSeconds, `rate limit ${rule.name} exceeded`);
}

/** Middleware form, for limits keyed by something known before the handler runs (the client IP). */
export function rateLimit(redis: Redis, rule: RateLimitRule, subjectOf: (req: Request) => string) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      await enforceRateLimit(redis, rule, subjectOf(req), res);
      next();
    } catch (err) {
      next(err);
    }
  };
}
