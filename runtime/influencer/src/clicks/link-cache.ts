// The redirect's link lookup, served from this process's memory. Invalidation across instances:
// deactivating a link sets a "gone" marker in Redis that every redirect checks inside its one
// round trip (ClickRecorder.admit), so on every instance the first redirect after the deactivation
// answered is a 404 and drops the cached copy. If the marker could not be written (Redis down, so
// deactivate answered 503), a cached copy lives at most LINK_CACHE_TTL_MS. Expiry needs no
// invalidation: each redirect compares the cached expiresAt with the clock.
import type Redis from "ioredis";
import { QueryTypes, type Sequelize } from "sequelize";

export interface CachedLink {
  id: string;
  targetUrl: string;
  active: boolean;
  expiresAt: number | null;
}

/** Longest a cached link is served without reading Postgres again. */
export const LINK_CACHE_TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;

export const linkGoneKey = (linkId: string) => `links:gone:${linkId}`;

/** Tells every instance's next redirect that the link is gone; kept as long as a cached copy can live. */
export async function markLinkGone(redis: Redis, linkId: string): Promise<void> {
  await redis.set(linkGoneKey(linkId), "1", "PX", 2 * LINK_CACHE_TTL_MS);
}

export class LinkCache {
  private readonly entries = new Map<string, { link: CachedLink; loadedAt: number }>();

  constructor(
    private readonly sequelize: Sequelize,
    private readonly now: () => Date,
  ) {}

  /** The link from memory when loaded in the last LINK_CACHE_TTL_MS, else undefined: no promise on the hot path. */
  cached(code: string): CachedLink | undefined {
    const hit = this.entries.get(code);
    return hit && this.now().getTime() - hit.loadedAt < LINK_CACHE_TTL_MS ? hit.link : undefined;
  }

  /** The link with this code (null when there is none) read from Postgres, and remembered. */
  async fetch(code: string): Promise<CachedLink | null> {
    const at = this.now().getTime();
    const link = await this.load(code);
    // Unknown codes are not remembered: a code created a moment later must work at once.
    if (link) this.remember(code, link, at);
    else this.entries.delete(code);
    return link;
  }

  evict(code: string): void {
    this.entries.delete(code);
  }

  private remember(code: string, link: CachedLink, at: number): void {
    this.entries.delete(code);
    this.entries.set(code, { link, loadedAt: at });
    // Oldest first (Map keeps insertion order): a bounded cache, not an unbounded one.
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  private async load(code: string): Promise<CachedLink | null> {
    const [row] = await this.sequelize.query<{ id: string; target_url: string; active: boolean; expires_at: Date | null }>(
      `SELECT id, target_url, active, expires_at FROM links WHERE code = $1`,
      { bind: [code], type: QueryTypes.SELECT },
    );
    return row ? { id: row.id, targetUrl: row.target_url, active: row.active, expiresAt: row.expires_at ? new Date(row.expires_at).getTime() : null } : null;
  }
}
