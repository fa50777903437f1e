// Payouts, two-phase on the ledger:
//   request : available -> payout_pending (amount), payout row `pending`          (API, idempotent)
//   post    : payout_pending -> system:settlement (net) and -> system:fees (fee)  (worker, once)
//   void    : payout_pending -> available (amount)                                (worker, once)
// The status change and its transfers commit together under the payout row lock and only from
// `pending`, so a payout is posted or voided exactly once whatever retries or races happen.
import { QueryTypes, type Sequelize, type Transaction } from "sequelize";
import { notFound, validationError } from "@twist/shared/errors";
import { formatAmount } from "@twist/shared/amount";
import { account, type Ledger } from "../ledger";
import { UUID_PATTERN } from "../pools/service";
import { recordEvents } from "../events/record";
import type { PayoutToSettle } from "../settlement/adapter";
import { recordPayoutItems } from "./items";

export interface PayoutRules {
  minAmount: bigint;
  feeFlat: bigint;
  feeBps: number;
}

export interface PayoutView {
  id: string;
  amount: string;
  fee: string;
  net: string;
  destination: string;
  status: "pending" | "settled" | "voided";
  adapter: string;
  /** Set only when a real on-chain settlement produced it. */
  txSignature: string | null;
  failureReason: string | null;
  createdAt: string;
  settledAt: string | null;
  voidedAt: string | null;
}

interface PayoutRow {
  id: string;
  wallet: string;
  amount: string;
  fee: string;
  net: string;
  destination: string;
  status: PayoutView["status"];
  adapter: string;
  tx_signature: string | null;
  attempt_signature: string | null;
  attempt_last_valid_height: string | null;
  failure_reason: string | null;
  created_at: Date;
  settled_at: Date | null;
  voided_at: Date | null;
}

const COLUMNS = `id, wallet, amount::text AS amount, fee::text AS fee, net::text AS net, destination, status, adapter, tx_signature,
  attempt_signature, attempt_last_valid_height::text AS attempt_last_valid_height, failure_reason, created_at, settled_at, voided_at`;

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function view(r: PayoutRow): PayoutView {
  return {
    id: r.id,
    amount: r.amount,
    fee: r.fee,
    net: r.net,
    destination: r.destination,
    status: r.status,
    adapter: r.adapter,
    txSignature: r.tx_signature,
    failureReason: r.failure_reason,
    createdAt: iso(r.created_at)!,
    settledAt: iso(r.settled_at),
    voidedAt: iso(r.voided_at),
  };
}

/** fee = feeFlat + floor(amount * feeBps / 10000). */
export function payoutFee(amount: bigint, rules: PayoutRules): bigint {
  return rules.feeFlat + (amount * BigInt(rules.feeBps)) / 10_000n;
}

export class PayoutService {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly ledger: Ledger,
    readonly rules: PayoutRules,
    private readonly adapterName: string,
  ) {}

  /** Validates the amount against the rules (400) before any transaction starts. */
  quote(amount: bigint): { fee: bigint; net: bigint } {
    if (amount < this.rules.minAmount) {
      throw validationError(`the minimum payout is ${formatAmount(this.rules.minAmount)}`, [
        { field: "amount", message: `must be at least ${formatAmount(this.rules.minAmount)}`, reason: "BELOW_MINIMUM" },
      ]);
    }
    const fee = payoutFee(amount, this.rules);
    if (fee >= amount) throw validationError("the amount does not cover the payout fee", [{ field: "amount", message: `fee is ${formatAmount(fee)}` }]);
    return { fee, net: amount - fee };
  }

  /** Phase 1: reserves the amount (available -> payout_pending) and records a pending payout. */
  async request(t: Transaction, wallet: string, amount: bigint): Promise<PayoutView> {
    const { fee, net } = this.quote(amount);
    const [row] = await this.sequelize.query<PayoutRow>(
      `INSERT INTO payouts (wallet, amount, fee, net, destination, adapter) VALUES ($1, $2::numeric, $3::numeric, $4::numeric, $1, $5) RETURNING ${COLUMNS}`,
      { bind: [wallet, amount.toString(), fee.toString(), net.toString(), this.adapterName], transaction: t, type: QueryTypes.SELECT },
    );
    const reserveTransferId = `payout:${row!.id}:reserve`;
    await this.ledger.transfer(t, {
      id: reserveTransferId,
      from: account.available(wallet),
      to: account.payoutPending(wallet),
      amount,
      kind: "payout_reserve",
      reference: row!.id,
    });
    await recordPayoutItems(this.sequelize, t, { id: row!.id, wallet, amount, reserveTransferId });
    await recordEvents(t, [{ wallet, type: "payout.pending", data: { payoutId: row!.id, amount: row!.amount, fee: row!.fee, net: row!.net } }]);
    return view(row!);
  }

  async list(wallet: string, limit: number, before?: string): Promise<{ payouts: PayoutView[]; nextCursor: string | null }> {
    if (before !== undefined && !UUID_PATTERN.test(before)) throw validationError("cursor is invalid", [{ field: "cursor", message: "must be a payout id" }]);
    const rows = await this.sequelize.query<PayoutRow>(
      `SELECT ${COLUMNS} FROM payouts WHERE wallet = $1
         AND ($2::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM payouts WHERE id = $2::uuid AND wallet = $1))
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      { bind: [wallet, before ?? null, limit + 1], type: QueryTypes.SELECT },
    );
    const page = rows.slice(0, limit);
    return { payouts: page.map(view), nextCursor: rows.length > limit ? page[page.length - 1]!.id : null };
  }

  /** A payout of `wallet`; another wallet's payout is 404, as if it did not exist. */
  async get(wallet: string, id: string): Promise<PayoutView> {
    if (!UUID_PATTERN.test(id)) throw notFound("payout not found");
    const [row] = await this.sequelize.query<PayoutRow>(`SELECT ${COLUMNS} FROM payouts WHERE id = $1 AND wallet = $2`, {
      bind: [id, wallet],
      type: QueryTypes.SELECT,
    });
    if (!row) throw notFound("payout not found");
    return view(row);
  }

  /** Both balances from one statement: one snapshot, never mid-way through a reservation. */
  async balance(wallet: string): Promise<{ available: string; pending: string }> {
    const available = account.available(wallet).key;
    const pending = account.payoutPending(wallet).key;
    const rows = await this.sequelize.query<{ key: string; balance: string }>(`SELECT key, balance::text AS balance FROM ledger_accounts WHERE key = ANY($1::text[])`, {
      bind: [[available, pending]],
      type: QueryTypes.SELECT,
    });
    const of = (key: string) => formatAmount(BigInt(rows.find((r) => r.key === key)?.balance ?? "0"));
    return { available: of(available), pending: of(pending) };
  }

  /** For the worker: a pending payout's settlement input, or null when it is no longer pending. */
  async pendingForSettlement(id: string): Promise<PayoutToSettle | null> {
    const [row] = await this.sequelize.query<PayoutRow>(`SELECT ${COLUMNS} FROM payouts WHERE id = $1`, { bind: [id], type: QueryTypes.SELECT });
    if (row?.status !== "pending") return null;
    return {
      id: row.id,
      destination: row.destination,
      net: BigInt(row.net),
      attemptSignature: row.attempt_signature,
      attemptLastValidHeight: row.attempt_last_valid_height === null ? null : BigInt(row.attempt_last_valid_height),
    };
  }

  /**
   * Records the signature of a transaction about to be sent, only if the payout still carries the
   * attempt `previous` the caller read (compare-and-set). False means another delivery of the job
   * recorded an attempt meanwhile: the caller must not send, or one payout could pay twice.
   */
  async recordAttempt(id: string, signature: string, lastValidHeight: bigint, previous: string | null): Promise<boolean> {
    const rows = await this.sequelize.query<{ id: string }>(
      `UPDATE payouts SET attempt_signature = $2, attempt_last_valid_height = $3
       WHERE id = $1 AND status = 'pending' AND attempt_signature IS NOT DISTINCT FROM $4 RETURNING id`,
      { bind: [id, signature, lastValidHeight.toString(), previous], type: QueryTypes.SELECT },
    );
    return rows.length === 1;
  }

  async countAttempt(id: string, reason: string): Promise<void> {
    await this.sequelize.query(`UPDATE payouts SET attempts = attempts + 1, failure_reason = $2 WHERE id = $1 AND status = 'pending'`, {
      bind: [id, reason.slice(0, 500)],
    });
  }

  /** Phase 2, success: posts the reserved funds out (net to settlement, fee to fees). False if not pending. */
  async post(id: string, txSignature: string | null): Promise<boolean> {
    return this.finish(id, async (t, row) => {
      const from = account.payoutPending(row.wallet);
      const net = BigInt(row.net);
      const fee = BigInt(row.fee);
      await this.ledger.post(t, [
        { id: `payout:${id}:post`, from, to: account.system("settlement"), amount: net, kind: "payout_post", reference: id },
        ...(fee > 0n ? [{ id: `payout:${id}:fee`, from, to: account.system("fees"), amount: fee, kind: "payout_fee", reference: id }] : []),
      ]);
      await this.sequelize.query(`UPDATE payouts SET status = 'settled', tx_signature = $2, settled_at = now(), attempts = attempts + 1, failure_reason = NULL WHERE id = $1`, {
        bind: [id, txSignature],
        transaction: t,
      });
      await recordEvents(t, [{ wallet: row.wallet, type: "payout.settled", data: { payoutId: id, amount: row.amount, net: row.net, fee: row.fee, txSignature } }]);
    });
  }

  /** Phase 2, failure: returns the reserved funds to available. False if not pending. */
  async void(id: string, reason: string): Promise<boolean> {
    return this.finish(id, async (t, row) => {
      await this.ledger.transfer(t, {
        id: `payout:${id}:void`,
        from: account.payoutPending(row.wallet),
        to: account.available(row.wallet),
        amount: BigInt(row.amount),
        kind: "payout_void",
        reference: id,
      });
      await this.sequelize.query(`UPDATE payouts SET status = 'voided', voided_at = now(), failure_reason = $2 WHERE id = $1`, {
        bind: [id, reason.slice(0, 500)],
        transaction: t,
      });
      await recordEvents(t, [{ wallet: row.wallet, type: "payout.failed", data: { payoutId: id, amount: row.amount, reason: reason.slice(0, 500) } }]);
    });
  }

  private async finish(id: string, apply: (t: Transaction, row: PayoutRow) => Promise<void>): Promise<boolean> {
    return this.sequelize.transaction(async (t) => {
      const [row] = await this.sequelize.query<PayoutRow>(`SELECT ${COLUMNS} FROM payouts WHERE id = $1 FOR UPDATE`, {
        bind: [id],
        transaction: t,
        type: QueryTypes.SELECT,
      });
      if (row?.status !== "pending") return false;
      await apply(t, row);
      return true;
    });
  }

  /** Pending payouts older than `olderThanSeconds` (the worker re-enqueues them after a lost enqueue). */
  async stalePending(olderThanSeconds: number, limit = 500): Promise<string[]> {
    const rows = await this.sequelize.query<{ id: string }>(
      `SELECT id FROM payouts WHERE status = 'pending' AND created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT $2`,
      { bind: [olderThanSeconds, limit], type: QueryTypes.SELECT },
    );
    return rows.map((r) => r.id);
  }
}
