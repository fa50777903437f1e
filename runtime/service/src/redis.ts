// Redis clients that fail fast: with the offline queue off, a command while Redis is down rejects at
// once instead of hanging, so handlers answer 503 and nothing silently falls back to memory.
import Redis from "ioredis";
import { unavailable } from "@twist/shared/errors";
import type { Logger } from "@twist/shared/logger";

/**
 * With a logger, an outage is logged once when it starts (the first failed connect, or a dropped
 * connection) and once when the connection is back, never per retry.
 */
export function createRedis(url: string, keyPrefix: string, logger?: Logger): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let down = false;
  const outage = (err?: Error) => {
    if (down) return;
    down = true;
    logger?.error({ err, redis: `${redis.options.host}:${redis.options.port}` }, "redis unavailable: requests that need it answer 503");
  };
  // Without an error listener ioredis would print each retry; failures also surface per command.
  redis.on("error", (err: Error) => outage(err));
  redis.on("reconnecting", () => outage());
  redis.on("ready", () => {
    if (!down) return;
    down = false;
    logger?.info({ redis: `${redis.options.host}:${redis.options.port}` }, "redis available again");
  });
  return redis;
}

/** Runs a Redis operation, mapping connection failures to 503 UNAVAILABLE. */
export async function redisOp<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw Object.assign(unavailable("a backing store is unavailable"), { cause: err });
  }
}
