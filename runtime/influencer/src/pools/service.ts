// Staking pools: creation and admin by their influencer, public search, and the money moves
// (stake, unstake, claim, commission distribution), all through the ledger.
//
// Nothing here locks the pool row, so stakes to one pool run side by side (docs/ledger.md, hot
// accounts): a stake locks its wallet's two accounts (the ledger does that, last) and then updates
// the pool's stake shard its wallet hashes to (one of 16). A distribution reads the positions in one
// statement, so "the stakes at that moment" is that statement's snapshot.
import { QueryTypes, type Sequelize, type Transaction } from "sequelize";
import { ApiError, conflict, forbidden, notFound, validationError } from "@twist/shared/errors";
import { formatAmount } from "@twist/shared/amount";
import type { Logger } from "@twist/shared/logger";
import { account, type Ledger, systemShardOf, type TransferInput } from "../ledger";
import type { CommissionBooked } from "../conversions/types";
import { recordEvents } from "../events/record";
import type { PoolCache } from "./cache";
import { decodeCursor, encodeCursor, POOL_SELECT, POOL_SORTS, UUID_PATTERN, view, type PoolRow, type PoolSort, type PoolView } from "./read-model";
import { effectiveShareBps, splitCommission } from "./tiers";

export { UUID_PATTERN, type PoolSort, type PoolView } from "./read-model";

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

interface PoolRef {
  id: string;
  min_stake: string;
  revenue_share_bps: number;
}

/** The stake shard a wallet's positions are counted in (same function as migration 0102). */
const SHARD_OF = `hashtext($2) & 15`;

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
    if (!rows[0]) throw conflict("this influencer already has a pool", { reason: "POOL_EXISTS" });
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
      const col = POOL_SORTS[query.sort];
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
      return { pools: page.map(view), nextCursor: rows.length > query.limit && last ? encodeCursor({ v: String(last[col]), id: last.id }) : null };
    });
  }

  /** The pool by id, in the transaction's snapshot; 404 when there is none. */
  private async findPool(t: Transaction, poolId: string): Promise<PoolRef> {
    if (!UUID_PATTERN.test(poolId)) throw notFound("pool not found");
    const [row] = await this.sequelize.query<PoolRef>(`SELECT id, min_stake::text AS min_stake, revenue_share_bps FROM pools WHERE id = $1`, {
      bind: [poolId],
      transaction: t,
      type: QueryTypes.SELECT,
    });
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
    const pool = await this.findPool(t, requestedId);
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
      throw validationError(`a position in this pool must be 0 or at least ${formatAmount(minStake)}`, {
        reason: "BELOW_MIN_STAKE",
        minStake: formatAmount(minStake),
        resulting: formatAmount(staked),
      });
    }
    const before = kind === "stake" ? staked - amount : staked + amount;
    const delta = kind === "stake" ? amount : -amount;
    const stakerDelta = before === 0n && staked > 0n ? 1 : before > 0n && staked === 0n ? -1 : 0;
    // The wallet's shard only: stakes of other wallets to this pool mostly update other rows. A stake
    // may create the shard; an unstake finds it (its stake was counted there), and must not go
    // through INSERT: the CHECKs apply to the proposed row before ON CONFLICT is considered.
    await this.sequelize.query(
      kind === "stake"
        ? `INSERT INTO pool_stake_shards AS s (pool_id, shard, total_staked, staker_count) VALUES ($1, ${SHARD_OF}, $3::numeric, $4)
           ON CONFLICT (pool_id, shard) DO UPDATE SET total_staked = s.total_staked + EXCLUDED.total_staked, staker_count = s.staker_count + EXCLUDED.staker_count`
        : `UPDATE pool_stake_shards SET total_staked = total_staked + $3::numeric, staker_count = staker_count + $4 WHERE pool_id = $1 AND shard = ${SHARD_OF}`,
      { bind: [poolId, wallet, delta.toString(), stakerDelta], transaction: t },
    );
    const [totals] = await this.sequelize.query<{ total_staked: string; staker_count: number }>(
      `SELECT COALESCE(SUM(total_staked), 0)::text AS total_staked, COALESCE(SUM(staker_count), 0)::int AS staker_count FROM pool_stake_shards WHERE pool_id = $1`,
      { bind: [poolId], transaction: t, type: QueryTypes.SELECT },
    );
    const answer = {
      poolId,
      staked: formatAmount(staked),
      available: formatAmount(balances.get(availableAcc.key)!),
      pool: { totalStaked: totals!.total_staked, stakerCount: totals!.staker_count },
    };
    await recordEvents(t, [{ wallet, type: "stake.changed", data: { ...answer, kind, amount: formatAmount(amount) } }]);
    return answer;
  }

  /** pool rewards -> available: `amount`, or everything claimable when omitted. */
  async claim(
    t: Transaction,
    wallet: string,
    requestedId: string,
    amount: bigint | null,
    opId: string,
  ): Promise<{ poolId: string; claimed: string; claimable: string; available: string }> {
    const poolId = (await this.findPool(t, requestedId)).id;
    const rewardsAcc = account.poolRewards(wallet, poolId);
    const availableAcc = account.available(wallet);
    const claimable = await this.ledger.balance(rewardsAcc.key, t, { lock: true });
    const take = amount ?? claimable;
    if (take === 0n) throw new ApiError("NOTHING_TO_CLAIM", "nothing to claim in this pool");
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
      const pool = await this.findPool(t, inf.pool_id);
      const rows = await this.sequelize.query<{ wallet: string; balance: string }>(
        `SELECT owner_wallet AS wallet, balance::text AS balance FROM ledger_accounts WHERE kind = 'stake' AND ref = $1 AND balance > 0`,
        { bind: [inf.pool_id], transaction: t, type: QueryTypes.SELECT },
      );
      positions = rows.map((r) => ({ wallet: r.wallet, amount: BigInt(r.balance) }));
      // The tier from the positions just read, so share and split come from one snapshot.
      shareBps = effectiveShareBps(
        pool.revenue_share_bps,
        positions.reduce((sum, p) => sum + p.amount, 0n),
      );
    }
    const split = splitCommission(booked.commission, shareBps, positions);
    const recorded = await this.sequelize.query<{ id: string }>(
      `INSERT INTO pool_distributions (conversion_id, influencer_id, pool_id, commission, revenue_share_bps, stakers_amount, influencer_amount, staker_count)
       VALUES ($1, $2, $3, $4::numeric, $5, $6::numeric, $7::numeric, $8) ON CONFLICT (conversion_id) DO NOTHING RETURNING id`,
      {
        bind: [
          booked.conversionId,
          booked.influencerId,
          inf.pool_id,
          booked.commission.toString(),
          shareBps,
          split.stakersAmount.toString(),
          split.influencerAmount.toString(),
          split.shares.length,
        ],
        transaction: t,
        type: QueryTypes.SELECT,
      },
    );
    if (!recorded[0]) return; // already distributed
    const source = account.system("commissions", systemShardOf(booked.conversionId));
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
    await recordEvents(
      t,
      transfers.map((tr) => ({ wallet: tr.to.owner!, type: "commission.received", data: commissionReceived(booked, tr, inf.pool_id, balances) })),
    );
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
