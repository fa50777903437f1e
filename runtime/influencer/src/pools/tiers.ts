// Pool tiers and the commission split. Pure functions: the rules docs/ledger.md documents.
import { twist } from "@twist/shared/amount";

export interface Tier {
  name: "starter" | "bronze" | "silver" | "gold";
  /** Total staked in the pool from which the tier applies (base units). */
  minTotalStaked: bigint;
  /** Highest revenue share (basis points) the pool pays stakers at this tier. */
  maxRevenueShareBps: number;
}

/** By total staked: below 1k TWIST starter, from 1k bronze, from 10k silver, from 50k gold. */
export const TIERS: readonly Tier[] = [
  { name: "starter", minTotalStaked: 0n, maxRevenueShareBps: 1000 },
  { name: "bronze", minTotalStaked: twist(1_000), maxRevenueShareBps: 2000 },
  { name: "silver", minTotalStaked: twist(10_000), maxRevenueShareBps: 3500 },
  { name: "gold", minTotalStaked: twist(50_000), maxRevenueShareBps: 5000 },
];

export const MAX_REVENUE_SHARE_BPS = 5000;

export function tierFor(totalStaked: bigint): Tier {
  let tier = TIERS[0]!;
  for (const t of TIERS) if (totalStaked >= t.minTotalStaked) tier = t;
  return tier;
}

/** The share actually paid: the pool's configured share, capped by its tier. */
export function effectiveShareBps(revenueShareBps: number, totalStaked: bigint): number {
  return Math.min(revenueShareBps, tierFor(totalStaked).maxRevenueShareBps);
}

export interface StakePosition {
  wallet: string;
  amount: bigint;
}

export interface CommissionSplit {
  stakersAmount: bigint;
  influencerAmount: bigint;
  /** Only positive shares; their sum is exactly stakersAmount. */
  shares: StakePosition[];
}

/**
 * Splits a commission: stakersAmount = floor(commission * shareBps / 10000) (0 when nobody stakes),
 * the influencer gets the rest. Stakers are paid pro rata to their stake by the largest-remainder
 * rule: each gets floor(stakersAmount * stake / total), then the units left over (fewer than the
 * number of stakers) go one each to the stakers with the largest fractional remainders, ties broken
 * by larger stake, then wallet address ascending. No base unit is created or lost.
 */
export function splitCommission(commission: bigint, shareBps: number, positions: readonly StakePosition[]): CommissionSplit {
  if (commission <= 0n) throw new RangeError("commission must be positive");
  if (!Number.isInteger(shareBps) || shareBps < 0 || shareBps > 10_000) throw new RangeError("shareBps must be 0-10000");
  const stakers = positions.filter((p) => p.amount > 0n);
  const total = stakers.reduce((s, p) => s + p.amount, 0n);
  const stakersAmount = total === 0n ? 0n : (commission * BigInt(shareBps)) / 10_000n;
  if (stakersAmount === 0n) return { stakersAmount: 0n, influencerAmount: commission, shares: [] };
  const rows = stakers.map((p) => {
    const scaled = stakersAmount * p.amount;
    return { wallet: p.wallet, stake: p.amount, share: scaled / total, remainder: scaled % total };
  });
  let left = stakersAmount - rows.reduce((s, r) => s + r.share, 0n);
  const order = [...rows].sort((a, b) =>
    a.remainder !== b.remainder ? (b.remainder > a.remainder ? 1 : -1) : a.stake !== b.stake ? (b.stake > a.stake ? 1 : -1) : a.wallet < b.wallet ? -1 : 1,
  );
  for (const r of order) {
    if (left === 0n) break;
    r.share += 1n;
    left -= 1n;
  }
  return {
    stakersAmount,
    influencerAmount: commission - stakersAmount,
    shares: rows.filter((r) => r.share > 0n).map((r) => ({ wallet: r.wallet, amount: r.share })),
  };
}
