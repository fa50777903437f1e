// The ledger (contract 5): the only code that moves money. Every movement is a transfer between two
// accounts, posted inside the caller's transaction:
//   1. the accounts are created if missing, then locked (SELECT ... FOR UPDATE) in key order, so
//      concurrent postings serialise per account and never deadlock on each other;
//   2. the transfers are inserted with their id as idempotency key (ON CONFLICT DO NOTHING); an id
//      already present with the same body is a replay and changes nothing, with another body it is
//      a LedgerConflictError;
//   3. the net change per account is checked against the locked balances (user-owned accounts never
//      go negative: InsufficientFundsError) and applied in one UPDATE.
// A thrown error leaves the transaction unusable for money: the caller must roll it back (Sequelize
// managed transactions do so when the callback throws). A CHECK constraint backs rule 3 in the schema.
import { QueryTypes, type Sequelize, type Transaction } from "sequelize";
import { CURRENCY, type AccountSpec } from "./accounts";

export interface TransferInput {
  /** Idempotency key of this movement, unique forever. */
  id: string;
  from: AccountSpec;
  to: AccountSpec;
  amount: bigint;
  kind: string;
  reference?: string | null;
}

export interface PostResult {
  /** Per input transfer: true when applied now, false when it was a replay of an identical transfer. */
  applied: boolean[];
  /** Balances after posting, for every account touched. */
  balances: Map<string, bigint>;
}

export class LedgerError extends Error {}

export class InsufficientFundsError extends LedgerError {
  constructor(readonly accountKey: string, readonly balance: bigint, readonly required: bigint) {
    super(`insufficient funds in ${accountKey}`);
    this.name = "InsufficientFundsError";
  }
}

export class LedgerConflictError extends LedgerError {
  constructor(readonly transferId: string) {
    super(`transfer ${transferId} already exists with a different body`);
    this.name = "LedgerConflictError";
  }
}

export const MAX_TRANSFER_ID_LENGTH = 256;

interface LockedAccount {
  id: string;
  key: string;
  balance: string;
  allow_negative: boolean;
}

export class Ledger {
  constructor(readonly sequelize: Sequelize) {}

  /** Runs `fn` in a new transaction (READ COMMITTED; row locks provide the isolation the ledger needs). */
  transaction<T>(fn: (t: Transaction) => Promise<T>): Promise<T> {
    return this.sequelize.transaction(fn);
  }

  async transfer(t: Transaction, input: TransferInput): Promise<{ applied: boolean; balances: Map<string, bigint> }> {
    const result = await this.post(t, [input]);
    return { applied: result.applied[0]!, balances: result.balances };
  }

  /** Posts transfers atomically (all or nothing) within `t`. */
  async post(t: Transaction, inputs: readonly TransferInput[]): Promise<PostResult> {
    if (inputs.length === 0) return { applied: [], balances: new Map() };
    const ids = new Set<string>();
    const specs = new Map<string, AccountSpec>();
    for (const tr of inputs) {
      if (typeof tr.amount !== "bigint" || tr.amount <= 0n) throw new LedgerError(`transfer ${tr.id}: amount must be a positive bigint`);
      if (!tr.id || tr.id.length > MAX_TRANSFER_ID_LENGTH) throw new LedgerError("transfer id must be 1-256 characters");
      if (ids.has(tr.id)) throw new LedgerError(`transfer ${tr.id} appears twice in one posting`);
      if (tr.from.key === tr.to.key) throw new LedgerError(`transfer ${tr.id}: from and to are the same account`);
      ids.add(tr.id);
      specs.set(tr.from.key, tr.from);
      specs.set(tr.to.key, tr.to);
    }
    const keys = [...specs.keys()].sort();
    const all = keys.map((k) => specs.get(k)!);
    await this.sequelize.query(
      `INSERT INTO ledger_accounts (key, owner_wallet, kind, ref, currency, allow_negative)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[])
       ON CONFLICT (key) DO NOTHING`,
      { bind: [keys, all.map((a) => a.owner), all.map((a) => a.kind), all.map((a) => a.ref), all.map(() => CURRENCY), all.map((a) => a.allowNegative)], transaction: t },
    );
    const locked = await this.sequelize.query<LockedAccount>(
      `SELECT id, key, balance::text AS balance, allow_negative FROM ledger_accounts WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE`,
      { bind: [keys], transaction: t, type: QueryTypes.SELECT },
    );
    const byKey = new Map(locked.map((a) => [a.key, a]));

    const inserted = await this.sequelize.query<{ id: string }>(
      `INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, kind, reference)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::numeric[], $5::text[], $6::text[])
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      {
        bind: [
          inputs.map((tr) => tr.id),
          inputs.map((tr) => byKey.get(tr.from.key)!.id),
          inputs.map((tr) => byKey.get(tr.to.key)!.id),
          inputs.map((tr) => tr.amount.toString()),
          inputs.map((tr) => tr.kind),
          inputs.map((tr) => tr.reference ?? null),
        ],
        transaction: t,
        type: QueryTypes.SELECT,
      },
    );
    const insertedIds = new Set(inserted.map((r) => r.id));
    const replays = inputs.filter((tr) => !insertedIds.has(tr.id));
    if (replays.length) await this.checkReplays(t, replays);

    const deltas = new Map<string, bigint>();
    for (const tr of inputs) {
      if (!insertedIds.has(tr.id)) continue;
      deltas.set(tr.from.key, (deltas.get(tr.from.key) ?? 0n) - tr.amount);
      deltas.set(tr.to.key, (deltas.get(tr.to.key) ?? 0n) + tr.amount);
    }
    const balances = new Map<string, bigint>();
    for (const a of locked) {
      const next = BigInt(a.balance) + (deltas.get(a.key) ?? 0n);
      if (next < 0n && !a.allow_negative) throw new InsufficientFundsError(a.key, BigInt(a.balance), -(deltas.get(a.key) ?? 0n));
      balances.set(a.key, next);
    }
    const changed = locked.filter((a) => (deltas.get(a.key) ?? 0n) !== 0n);
    if (changed.length) {
      await this.sequelize.query(
        `UPDATE ledger_accounts a SET balance = a.balance + d.delta
         FROM unnest($1::uuid[], $2::numeric[]) AS d(id, delta) WHERE a.id = d.id`,
        { bind: [changed.map((a) => a.id), changed.map((a) => deltas.get(a.key)!.toString())], transaction: t },
      );
    }
    return { applied: inputs.map((tr) => insertedIds.has(tr.id)), balances };
  }

  private async checkReplays(t: Transaction, replays: TransferInput[]): Promise<void> {
    const rows = await this.sequelize.query<{ id: string; from_key: string; to_key: string; amount: string; kind: string; reference: string | null }>(
      `SELECT t.id, d.key AS from_key, c.key AS to_key, t.amount::text AS amount, t.kind, t.reference
       FROM ledger_transfers t JOIN ledger_accounts d ON d.id = t.debit_account_id JOIN ledger_accounts c ON c.id = t.credit_account_id
       WHERE t.id = ANY($1::text[])`,
      { bind: [replays.map((r) => r.id)], transaction: t, type: QueryTypes.SELECT },
    );
    const existing = new Map(rows.map((r) => [r.id, r]));
    for (const tr of replays) {
      const e = existing.get(tr.id);
      const same =
        e && e.from_key === tr.from.key && e.to_key === tr.to.key && BigInt(e.amount) === tr.amount && e.kind === tr.kind && e.reference === (tr.reference ?? null);
      if (!same) throw new LedgerConflictError(tr.id);
    }
  }

  /** Current balance of one account (0 when it does not exist yet). */
  async balance(key: string, t?: Transaction): Promise<bigint> {
    const rows = await this.sequelize.query<{ balance: string }>(`SELECT balance::text AS balance FROM ledger_accounts WHERE key = $1`, {
      bind: [key],
      transaction: t,
      type: QueryTypes.SELECT,
    });
    return rows[0] ? BigInt(rows[0].balance) : 0n;
  }

  /** Every account a wallet owns, with balances. */
  async accountsOf(wallet: string, t?: Transaction): Promise<{ key: string; kind: string; ref: string | null; balance: bigint }[]> {
    const rows = await this.sequelize.query<{ key: string; kind: string; ref: string | null; balance: string }>(
      `SELECT key, kind, ref, balance::text AS balance FROM ledger_accounts WHERE owner_wallet = $1 ORDER BY key`,
      { bind: [wallet], transaction: t, type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({ ...r, balance: BigInt(r.balance) }));
  }
}
