// wallet address -> user (created on first use) -> influencer (once registered). Postgres is the
// authority; Redis caches the mapping. The cache is an optimisation only: when Redis is down the
// lookup goes to Postgres, and a cached "not registered" is re-checked before anyone is refused.
import type Redis from "ioredis";
import { QueryTypes, type Sequelize } from "sequelize";
import type { Logger } from "@twist/shared/logger";

export interface IdentityMapping {
  userId: string;
  influencerId: string | null;
}

const CACHE_TTL_SECONDS = 600;
const cacheKey = (walletAddress: string) => `identity:${walletAddress}`;

export class IdentityStore {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  async resolve(walletAddress: string): Promise<IdentityMapping> {
    const cached = await this.cacheGet(walletAddress);
    if (cached) return cached;
    return this.load(walletAddress);
  }

  /** Reads the mapping from Postgres (creating the user on first use) and refreshes the cache. */
  async load(walletAddress: string): Promise<IdentityMapping> {
    const [row] = await this.sequelize.query<{ user_id: string; influencer_id: string | null }>(
      `WITH ins AS (
         INSERT INTO users (wallet_address) VALUES (:walletAddress)
         ON CONFLICT (wallet_address) DO NOTHING
         RETURNING id
       ), u AS (
         SELECT id FROM ins UNION ALL SELECT id FROM users WHERE wallet_address = :walletAddress
       )
       SELECT u.id AS user_id, i.id AS influencer_id
       FROM u LEFT JOIN influencers i ON i.user_id = u.id
       LIMIT 1`,
      { replacements: { walletAddress }, type: QueryTypes.SELECT },
    );
    // A concurrent first request may have inserted the user between our INSERT and SELECT snapshot.
    const mapping = row ? { userId: row.user_id, influencerId: row.influencer_id } : await this.loadExisting(walletAddress);
    await this.cacheSet(walletAddress, mapping);
    return mapping;
  }

  private async loadExisting(walletAddress: string): Promise<IdentityMapping> {
    const [row] = await this.sequelize.query<{ user_id: string; influencer_id: string | null }>(
      `SELECT u.id AS user_id, i.id AS influencer_id FROM users u LEFT JOIN influencers i ON i.user_id = u.id WHERE u.wallet_address = :walletAddress`,
      { replacements: { walletAddress }, type: QueryTypes.SELECT },
    );
    if (!row) throw new Error("user row vanished during identity lookup");
    return { userId: row.user_id, influencerId: row.influencer_id };
  }

  /** Drops the cached mapping (after registration). */
  async invalidate(walletAddress: string): Promise<void> {
    try {
      await this.redis.del(cacheKey(walletAddress));
    } catch (err) {
      this.logger.warn({ err }, "identity cache invalidation failed");
    }
  }

  private async cacheGet(walletAddress: string): Promise<IdentityMapping | null> {
    try {
      const text = await this.redis.get(cacheKey(walletAddress));
      if (!text) return null;
      const value = JSON.parse(text) as IdentityMapping;
      return typeof value.userId === "string" ? value : null;
    } catch (err) {
      this.logger.debug({ err }, "identity cache read failed; using Postgres");
      return null;
    }
  }

  private async cacheSet(walletAddress: string, mapping: IdentityMapping): Promise<void> {
    try {
      await this.redis.set(cacheKey(walletAddress), JSON.stringify(mapping), "EX", CACHE_TTL_SECONDS);
    } catch (err) {
      this.logger.debug({ err }, "identity cache write failed");
    }
  }
}
