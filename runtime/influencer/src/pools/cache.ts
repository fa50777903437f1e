// Redis cache for public pool reads. Every change bumps a version number that is part of each key,
// so one INCR invalidates every cached list and pool at once; old entries expire by TTL. The cache
// is an optimisation: when Redis fails, reads go to Postgres.
import { createHash } from "node:crypto";
import type Redis from "ioredis";
import type { Logger } from "@twist/shared/logger";

const VERSION_KEY = "pools:version";

export class PoolCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {}

  async read<T>(kind: string, params: unknown, load: () => Promise<T>): Promise<T> {
    let key: string | null = null;
    try {
      const version = (await this.redis.get(VERSION_KEY)) ?? "0";
      key = `pools:v${version}:${kind}:${createHash("sha256").update(JSON.stringify(params)).digest("hex").slice(0, 32)}`;
      const hit = await this.redis.get(key);
      if (hit) return JSON.parse(hit) as T;
    } catch (err) {
      this.logger.debug({ err }, "pool cache read failed; using Postgres");
    }
    const value = await load();
    if (key) {
      try {
        await this.redis.set(key, JSON.stringify(value), "EX", this.ttlSeconds);
      } catch (err) {
        this.logger.debug({ err }, "pool cache write failed");
      }
    }
    return value;
  }

  async invalidate(): Promise<void> {
    try {
      await this.redis.incr(VERSION_KEY);
    } catch (err) {
      // Entries expire within ttlSeconds anyway.
      this.logger.warn({ err }, "pool cache invalidation failed");
    }
  }
}
