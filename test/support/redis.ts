// Tests share the machine's Redis; each one works under its own key prefix and deletes only its keys.
import { randomBytes } from "node:crypto";
import Redis from "ioredis";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A port on loopback where nothing listens: how tests simulate "Redis is down". */
export const DEAD_REDIS_URL = "redis://127.0.0.1:1";

export function testRedisPrefix(label: string): string {
  return `twist-test:${label}:${process.pid}:${randomBytes(3).toString("hex")}:`;
}

/** Deletes every key under the prefix (SCAN, never FLUSHDB: other runs share this Redis). */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
