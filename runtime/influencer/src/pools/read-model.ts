// What a pool looks like to readers: the one SELECT every pool read uses, its mapping to the API
// view, the list's sort keys and its keyset cursor.
import { validationError } from "@twist/shared/errors";
import { effectiveShareBps, tierFor } from "./tiers";

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The list's sort keys (`?sort=`) and the POOL_SELECT column each orders by, descending then by id. */
export const POOL_SORTS = { total_staked: "total_staked", stakers: "staker_count", apy: "apy_bps" } as const;
export type PoolSort = keyof typeof POOL_SORTS;

export interface PoolView {
  id: string;
  influencer: { username: string; displayName: string };
  name: string;
  description: string;
  revenueShareBps: number;
  effectiveRevenueShareBps: number;
  tier: string;
  minStake: string;
  totalStaked: string;
  stakerCount: number;
  /** Trailing 30-day distributions to stakers / total staked, annualised (x 365/30), in basis points. */
  apyBps: string;
  createdAt: string;
}

export interface PoolRow {
  id: string;
  influencer_id: string;
  username: string;
  display_name: string;
  name: string;
  description: string;
  revenue_share_bps: number;
  min_stake: string;
  total_staked: string;
  staker_count: number;
  apy_bps: string;
  created_at: Date | string;
}

/** Pools with their influencer, totals summed over their stake shards, and trailing APY. */
export const POOL_SELECT = `
  SELECT p.id, p.influencer_id, i.username, i.display_name, p.name, p.description, p.revenue_share_bps,
         p.min_stake::text AS min_stake, COALESCE(s.total_staked, 0)::text AS total_staked, COALESCE(s.staker_count, 0)::int AS staker_count,
         p.created_at,
         (CASE WHEN s.total_staked > 0
               THEN floor(COALESCE(d.s30, 0) * 365 * 10000 / (30 * s.total_staked)) ELSE 0 END)::numeric(39,0) AS apy_bps
  FROM pools p
  JOIN influencers i ON i.id = p.influencer_id
  LEFT JOIN (SELECT pool_id, SUM(total_staked) AS total_staked, SUM(staker_count) AS staker_count FROM pool_stake_shards GROUP BY pool_id) s ON s.pool_id = p.id
  LEFT JOIN (SELECT pool_id, SUM(stakers_amount) AS s30 FROM pool_distributions
             WHERE created_at > now() - interval '30 days' AND pool_id IS NOT NULL GROUP BY pool_id) d ON d.pool_id = p.id`;

export function view(r: PoolRow): PoolView {
  const total = BigInt(r.total_staked);
  return {
    id: r.id,
    influencer: { username: r.username, displayName: r.display_name },
    name: r.name,
    description: r.description,
    revenueShareBps: r.revenue_share_bps,
    effectiveRevenueShareBps: effectiveShareBps(r.revenue_share_bps, total),
    tier: tierFor(total).name,
    minStake: r.min_stake,
    totalStaked: r.total_staked,
    stakerCount: r.staker_count,
    apyBps: String(r.apy_bps),
    createdAt: new Date(r.created_at).toISOString(),
  };
}

export interface Cursor {
  /** The sort column's value of the last row served. */
  v: string;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

export function decodeCursor(text: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as { v?: unknown; id?: unknown };
    if (typeof c.v === "string" && /^[0-9]{1,40}$/.test(c.v) && typeof c.id === "string" && UUID_PATTERN.test(c.id)) return { v: c.v, id: c.id };
  } catch {
    // fall through
  }
  throw validationError("cursor is invalid", [{ field: "cursor", message: "is not a cursor this API returned" }]);
}
