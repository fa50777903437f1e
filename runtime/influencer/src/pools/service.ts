// Staking pools: creation and admin by their influencer, public search, and the money moves
// (stake, unstake, claim, commission distribution), all through the ledger.
//
// Lock order, everywhere: the pool row first (stake/unstake/claim FOR UPDATE, distribution FOR
// SHARE), then ledger accounts in key order (the ledger does that). Stake changes and distributions
// of one pool therefore serialise, and "the stakes at that moment" is well defined.
import { QueryTypes, type Sequelize, type Transaction } from "sequelize";
import { ApiError, forbidden, notFound, validationError } from "@twist/shared/errors";
import { formatAmount } from "@twist/shared/amount";
import type { Logger } from "@twist/shared/logger";
import { account, Ledger, type TransferInput } from "../ledger";
import type { CommissionBooked } from "../conversions/types";
import { recordEvents } from "../events/record";
import { PoolCache } from "./cache";
import { effectiveShareBps, splitCommission, tierFor } from "./tiers";

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type PoolSort = "total_staked" | "stakers" | "apy";

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

interface PoolRow {
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

const POOL_SELECT = `
  SELECT p.id, p.influencer_id, i.username, i.display_name, p.name, p.description, p.revenue_share_bps,
         p.min_stake::text AS min_stake, p.total_staked::text AS total_staked, p.staker_count, p.created_at,
         (CASE WHEN p.total_staked > 0
               THEN floor(COALESCE(d.s30, 0) * 365 * 10000 / (30 * p.total_staked)) ELSE 0 END)::numeric(39,0) AS apy_bps
  FROM pools p
  JOIN influencers i ON i.id = p.influencer_id
  LEFT JOIN (SELECT pool_id, SUM(stakers_amount) AS s30 FROM pool_distributions
             WHERE created_at > now() - interval '30 days' AND pool_id IS NOT NULL GROUP BY pool_id) d ON d.pool_id = p.id`;

const SORT_COLUMN: Record<PoolSort, string> = { total_staked: "total_staked", stakers: "staker_count", apy: "apy_bps" };

function view(r: PoolRow): PoolView {
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

export interface PoolListQuery {
  q?: string;
  sort: PoolSort;
  limit: number;
  cursor?: string;
}

export interface StakeAnswer {
  poolId: string;
  staked: string;
  available: string;
  pool: { totalStaked: string; stakerCount: number };
}

interface LockedPool {
  id: string;
  influencer_id: string;
  min_stake: string;
  revenue_share_bps: number;
  total_staked: string;
}

export class PoolService {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly ledger: Ledger,
    readonly cache: PoolCache,
    private readonly logger: Logger,
  ) {}

  async create(influencerId: string, input: { name: string; description: string; revenueShareBps: number; minStake: bigint }): Promise<PoolView> {
    const rows = await this.sequelize.query<{ id: string }>(
      `INSERT INTO pools (influencer_id, name, description, revenue_share_bps, min_stake) VALUES ($1, $2, $3, $4, $5::numeric)
       ON CONFLICT (influencer_id) DO NOTHING RETURNING id`,
      { bind: [influencerId, input.name, input.description, input.revenueShareBps, input.minStake.toString()], type: QueryTypes.SELECT },
    );
    if (!rows[0]) throw new ApiError("CONFLICT", "this influencer already has a pool", { details: { reason: "POOL_EXISTS" } });
    await this.cache.invalidate();
    return (await this.load(rows[0].id))!;
  }

  async update(influencerId: string, poolId: string, patch: { name?: string; description?: string; revenueShareBps?: number; minStake?: bigint }): Promise<PoolView> {
    const owner = await this.ownerOf(poolId);
    if (owner !== influencerId) throw forbidden("only the pool's influencer may change it");
    await this.sequelize.query(
      `UPDATE pools SET name = COALESCE($2, name), description = COALESCE($3, description),
         revenue_share_bps = COALESCE($4, revenue_share_bps), min_stake = COALESCE($5::numeric, min_stake), updated_at = now()
       WHERE id = $1`,
      { bind: [poolId, input(patch.name), input(patch.description), input(patch.revenueShareBps), patch.minStake?.toString() ?? null] },
    );
    await this.cache.invalidate();
    return (await this.load(poolId))!;
  }

  private async ownerOf(poolId: string): Promise<string> {
    if (!UUID_PATTERN.test(poolId)) throw notFound("pool not found");
    const [row] = await this.sequelize.query<{ influencer_id: string }>(`SELECT influencer_id FROM pools WHERE id = $1`, {
      bind: [poolId],
      type: QueryTypes.SELECT,
    });
    if (!row) throw notFound("pool not found");
    return row.influencer_id;
  }

  private async load(poolId: string): Promise<PoolView | null> {
    const [row] = await this.sequelize.query<PoolRow>(`${POOL_SELECT} WHERE p.id = $1`, { bind: [poolId], type: QueryTypes.SELECT });
    return row ? view(row) : null;
  }

  async get(poolId: string): Promise<PoolView> {
    if (!UUID_PATTERN.test(poolId)) throw notFound("pool not found");
    const pool = await this.cache.read("one", poolId, () => this.load(poolId));
    if (!pool) throw notFound("pool not found");
    return pool;
  }

  async list(query: PoolListQuery): Promise<{ pools: PoolView[]; nextCursor: string | null }> {
    const cursor = query.cursor ? decodeCursor(query.cursor) : null;
    return this.cache.read("list", query, async () => {
      const col = SORT_COLUMN[query.sort];
      const bind: unknown[] = [];
      const where: string[] = [];
      if (query.q) {
        bind.push(`%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
        where.push(`(q.name ILIKE $${bind.length} OR q.description ILIKE $${bind.length} OR q.username ILIKE $${bind.length} OR q.display_name ILIKE $${bind.length})`);
      }
      if (cursor) {
        bind.push(cursor.v, cursor.id);
        where.push(`(q.${col}::numeric < $${bind.length - 1}::numeric OR (q.${col}::numeric = $${bind.length - 1}::numeric AND q.id < $${bind.length}::uuid))`);
      }
      bind.push(query.limit + 1);
      const rows = await this.sequelize.query<PoolRow>(
        `SELECT * FROM (${POOL_SELECT}) q ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY q.${col} DESC, q.id DESC LIMIT $${bind.length}`,
        { bind, type: QueryTypes.SELECT },
      );
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      const sortValue = (r: PoolRow) => String(query.sort === "stakers" ? r.staker_count : query.sort === "apy" ? r.apy_bps : r.total_staked);
      return { pools: page.map(view), nextCursor: rows.length > query.limit && last ? encodeCursor({ v: sortValue(last), id: last.id }) : null };
    });
  }

  private async lockPool(t: Transaction, poolId: string, mode: "UPDATE" | "SHARE"): Promise<LockedPool> {
    if (!UUID_PATTERN.test(poolId)) throw notFound("pool not found");
    const [row] = await this.sequelize.query<LockedPool>(
      `SELECT id, influencer_id, min_stake::text AS min_stake, revenue_share_bps, total_staked::text AS total_staked FROM pools WHERE id = $1 FOR ${mode}`,
      { bind: [poolId], transaction: t, type: QueryTypes.SELECT },
    );
    if (!row) throw notFound("pool not found");
    return row;
  }

  /** available -> stake account; the position must reach the pool's minimum stake. */
  async stake(t: Transaction, wallet: string, poolId: string, amount: bigint, opId: string): Promise<StakeAnswer> {
    return this.moveStake(t, wallet, poolId, amount, opId, "stake");
  }

  /** stake account -> available; what remains must be 0 or at least the minimum stake. */
  async unstake(t: Transaction, wallet: string, poolId: string, amount: bigint, opId: string): Promise<StakeAnswer> {
    return this.moveStake(t, wallet, poolId, amount, opId, "unstake");
  }

  private async moveStake(t: Transaction, wallet: string, requestedId: string, amount: bigint, opId: string, kind: "stake" | "unstake"): Promise<StakeAnswer> {
    const pool = await this.lockPool(t, requestedId, "UPDATE");
    // The row's id, not the URL's spelling: a UUID in another letter case is the same pool, and
    // account keys (and the distribution's stake lookup) must name it one way only.
    const poolId = pool.id;
    const stakeAcc = account.stake(wallet, poolId);
    const availableAcc = account.available(wallet);
    const [from, to] = kind === "stake" ? [availableAcc, stakeAcc] : [stakeAcc, availableAcc];
    const { balances } = await this.ledger.transfer(t, { id: `${kind}:${wallet}:${opId}`, from, to, amount, kind, reference: poolId });
    const staked = balances.get(stakeAcc.key)!;
    const minStake = BigInt(pool.min_stake);
    if (staked !== 0n && staked < minStake) {
      throw new ApiError("VALIDATION_ERROR", `a position in this pool must be 0 or at least ${formatAmount(minStake)}`, {
        details: { reason: "BELOW_MIN_STAKE", minStake: formatAmount(minStake), resulting: formatAmount(staked) },
      });
    }
    const before = kind === "stake" ? staked - amount : staked + amount;
    const delta = kind === "stake" ? amount : -amount;
    const stakerDelta = before === 0n && staked > 0n ? 1 : before > 0n && staked === 0n ? -1 : 0;
    const [updated] = await this.sequelize.query<{ total_staked: string; staker_count: number }>(
      `UPDATE pools SET total_staked = total_staked + $2::numeric, staker_count = staker_count + $3, updated_at = now()
       WHERE id = $1 RETURNING total_staked::text AS total_staked, staker_count`,
      { bind: [poolId, delta.toString(), stakerDelta], transaction: t, type: QueryTypes.SELECT },
    );
    const answer = {
      poolId,
      staked: formatAmount(staked),
      available: formatAmount(balances.get(availableAcc.key)!),
      pool: { totalStaked: updated!.total_staked, stakerCount: updated!.staker_count },
    };
    await recordEvents(t, [{ wallet, type: "stake.changed", data: { ...answer, kind, amount: formatAmount(amount) } }]);
    return answer;
  }

  /** pool rewards -> available: `amount`, or everything claimable when omitted. */
  async claim(t: Transaction, wallet: string, requestedId: string, amount: bigint | null, opId: string): Promise<{ poolId: string; claimed: string; claimable: string; available: string }> {
    const poolId = (await this.lockPool(t, requestedId, "UPDATE")).id;
    const rewardsAcc = account.poolRewards(wallet, poolId);
    const availableAcc = account.available(wallet);
    const claimable = await this.ledger.balance(rewardsAcc.key, t);
    const take = amount ?? claimable;
    if (take === 0n) throw new ApiError("NOTHING_TO_CLAIM", "nothing to claim in this pool", { status: 409 });
    const { balances } = await this.ledger.transfer(t, { id: `claim:${wallet}:${opId}`, from: rewardsAcc, to: availableAcc, amount: take, kind: "claim", reference: poolId });
    const answer = { poolId, claimed: formatAmount(take), claimable: formatAmount(balances.get(rewardsAcc.key)!), available: formatAmount(balances.get(availableAcc.key)!) };
    await recordEvents(t, [{ wallet, type: "claim.posted", data: answer }]);
    return answer;
  }

  /**
   * The commission hook (runs in the conversion's transaction). The pool's effective revenue share
   * goes to its stakers pro rata (pool rewards accounts, claimable), the rest to the influencer's
   * available account. Idempotent per conversion (transfer ids and pool_distributions.conversion_id).
   */
  async distribute(t: Transaction, booked: CommissionBooked): Promise<void> {
    if (booked.currency !== "TWIST") {
      this.logger.warn({ conversionId: booked.conversionId, currency: booked.currency }, "commission not in TWIST: not distributed on the ledger");
      return;
    }
    const [inf] = await this.sequelize.query<{ wallet: string; pool_id: string | null }>(
      `SELECT u.wallet_address AS wallet, p.id AS pool_id FROM influencers i JOIN users u ON u.id = i.user_id
       LEFT JOIN pools p ON p.influencer_id = i.id WHERE i.id = $1`,
      { bind: [booked.influencerId], transaction: t, type: QueryTypes.SELECT },
    );
    if (!inf) throw new Error(`influencer ${booked.influencerId} not found for commission`);
    let shareBps = 0;
    let positions: { wallet: string; amount: bigint }[] = [];
    if (inf.pool_id) {
      const pool = await this.lockPool(t, inf.pool_id, "SHARE");
      shareBps = effectiveShareBps(pool.revenue_share_bps, BigInt(pool.total_staked));
      const rows = await this.sequelize.query<{ wallet: string; balance: string }>(
        `SELECT owner_wallet AS wallet, balance::text AS balance FROM ledger_accounts WHERE kind = 'stake' AND ref = $1 AND balance > 0`,
        { bind: [inf.pool_id], transaction: t, type: QueryTypes.SELECT },
      );
      positions = rows.map((r) => ({ wallet: r.wallet, amount: BigInt(r.balance) }));
    }
    const split = splitCommission(booked.commission, shareBps, positions);
    const recorded = await this.sequelize.query<{ id: string }>(
      `INSERT INTO pool_distributions (conversion_id, influencer_id, pool_id, commission, revenue_share_bps, stakers_amount, influencer_amount, staker_count)
       VALUES ($1, $2, $3, $4::numeric, $5, $6::numeric, $7::numeric, $8) ON CONFLICT (conversion_id) DO NOTHING RETURNING id`,
      {
        bind: [booked.conversionId, booked.influencerId, inf.pool_id, booked.commission.toString(), shareBps, split.stakersAmount.toString(), split.influencerAmount.toString(), split.shares.length],
        transaction: t,
        type: QueryTypes.SELECT,
      },
    );
    if (!recorded[0]) return; // already distributed
    const source = account.system("commissions");
    const transfers: TransferInput[] = split.shares.map((s) => ({
      id: `commission:${booked.conversionId}:staker:${s.wallet}`,
      from: source,
      to: account.poolRewards(s.wallet, inf.pool_id!),
      amount: s.amount,
      kind: "commission_staker_share",
      reference: booked.conversionId,
    }));
    if (split.influencerAmount > 0n) {
      transfers.push({
        id: `commission:${booked.conversionId}:influencer`,
        from: source,
        to: account.available(inf.wallet),
        amount: split.influencerAmount,
        kind: "commission_influencer_share",
        reference: booked.conversionId,
      });
    }
    const { balances } = await this.ledger.post(t, transfers);
    await recordEvents(t, transfers.map((tr) => ({ wallet: tr.to.owner!, type: "commission.received", data: commissionReceived(booked, tr, inf.pool_id, balances) })));
  }

  /** The caller's positions: stake and claimable rewards per pool. */
  async stakesOf(wallet: string): Promise<{ poolId: string; poolName: string; influencer: string; staked: string; claimable: string }[]> {
    const rows = await this.sequelize.query<{ pool_id: string; name: string; username: string; staked: string; claimable: string }>(
      `SELECT p.id AS pool_id, p.name, i.username,
              COALESCE(MAX(a.balance) FILTER (WHERE a.kind = 'stake'), 0)::text AS staked,
              COALESCE(MAX(a.balance) FILTER (WHERE a.kind = 'pool_rewards'), 0)::text AS claimable
       FROM ledger_accounts a JOIN pools p ON p.id::text = a.ref JOIN influencers i ON i.id = p.influencer_id
       WHERE a.owner_wallet = $1 AND a.kind IN ('stake', 'pool_rewards')
       GROUP BY p.id, p.name, i.username
       HAVING COALESCE(MAX(a.balance) FILTER (WHERE a.kind = 'stake'), 0) > 0 OR COALESCE(MAX(a.balance) FILTER (WHERE a.kind = 'pool_rewards'), 0) > 0
       ORDER BY p.name, p.id`,
      { bind: [wallet], type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({ poolId: r.pool_id, poolName: r.name, influencer: r.username, staked: r.staked, claimable: r.claimable }));
  }
}

/** commission.received: the influencer's share lands in available, a staker's in the pool's claimable rewards. */
function commissionReceived(booked: CommissionBooked, tr: TransferInput, poolId: string | null, balances: Map<string, bigint>): Record<string, unknown> {
  const role = tr.kind === "commission_influencer_share" ? "influencer" : "staker";
  const balance = formatAmount(balances.get(tr.to.key)!);
  return { conversionId: booked.conversionId, poolId, role, amount: formatAmount(tr.amount), ...(role === "influencer" ? { available: balance } : { claimable: balance }) };
}

function input<T>(value: T | undefined): T | null {
  return value === undefined ? null : value;
}

function encodeCursor(c: { v: string; id: string }): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeCursor(text: string): { v: string; id: string } {
  try {
    const c = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as { v?: unknown; id?: unknown };
    if (typeof c.v === "string" && /^[0-9]{1,40}$/.test(c.v) && typeof c.id === "string" && UUID_PATTERN.test(c.id)) return { v: c.v, id: c.id };
  } catch {
    // fall through
  }
  throw validationError("cursor is invalid", [{ field: "cursor", message: "is not a cursor this API returned" }]);
}
