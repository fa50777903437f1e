// Redis clients that fail fast: with the offline queue off, a command while Redis is down rejects at
// once instead of hanging, so handlers answer 503 and nothing silently falls back to memory.
import Redis from "ioredis";
import { unavailable } from "@twist/shared/errors";

export function createRedis(url: string, keyPrefix: string): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // Connection errors surface per command; without a listener ioredis would print each retry.
  redis.on("error", () => {});
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
