// The ledger (contract 5): the only code that moves money. Every movement is a transfer between two
// accounts, posted inside the caller's transaction, in three set-based statements (four when an id
// repeats) whatever the number of transfers:
//   1. the accounts are created if missing;
//   2. the transfers are inserted in id order with their id as idempotency key (ON CONFLICT DO
//      NOTHING; two postings racing for the same ids wait on each other in one order); an id
//      already present with the same body is a replay and changes nothing, with another body it
//      is a LedgerConflictError;
//   3. the net change per account is applied in one UPDATE that first locks the changed accounts
//      in key order (so concurrent postings never deadlock on each other) and refuses to take a
//      user-owned account below zero (InsufficientFundsError).
// Step 2 joins the accounts, so a transfer can only name accounts that exist; accounts are never
// deleted (migration 0200, which dropped the foreign keys that cost every insert a row lock per side).
// Hot accounts (docs/ledger.md): nothing is read-locked before step 3, so a system account that
// every posting touches (system:rewards, system:commissions) is locked only from that last
// statement to the commit, once per posting however many transfers it carries; reward credits also
// spread over shards of system:rewards (accounts.ts), so concurrent credits rarely share that row.
// A thrown error leaves the transaction unusable for money: the caller must roll it back (Sequelize
// managed transactions do so when the callback throws). A CHECK constraint backs step 3 in the schema.
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
  constructor(
    readonly accountKey: string,
    readonly balance: bigint,
    readonly required: bigint,
  ) {
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

  /**
   * Posts transfers atomically (all or nothing) within `t`. `accountsExist`: the caller created every
   * account beforehand (ensureAccounts), so step 1 is skipped; a missing one fails the posting as a
   * LedgerConflictError (its transfer is not inserted and has no earlier copy), never half-posts it.
   */
  async post(t: Transaction, inputs: readonly TransferInput[], options: { accountsExist?: boolean } = {}): Promise<PostResult> {
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
    if (!options.accountsExist) {
      await this.ensureAccounts(
        keys.map((k) => specs.get(k)!),
        t,
      );
    }
    const inserted = await this.sequelize.query<{ id: string }>(
      `INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, kind, reference)
       SELECT tr.id, d.id, c.id, tr.amount, tr.kind, tr.reference
       FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::text[], $6::text[]) AS tr(id, from_key, to_key, amount, kind, reference)
       JOIN ledger_accounts d ON d.key = tr.from_key JOIN ledger_accounts c ON c.key = tr.to_key
       ORDER BY tr.id
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      {
        bind: [
          inputs.map((tr) => tr.id),
          inputs.map((tr) => tr.from.key),
          inputs.map((tr) => tr.to.key),
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
    const changed = keys.filter((k) => (deltas.get(k) ?? 0n) !== 0n);
    const balances = changed.length ? await this.applyDeltas(t, changed, deltas) : new Map<string, bigint>();
    const unchanged = keys.filter((k) => !balances.has(k));
    if (unchanged.length) {
      for (const [k, v] of await this.balances(unchanged, t)) balances.set(k, v);
    }
    return { applied: inputs.map((tr) => insertedIds.has(tr.id)), balances };
  }

  /**
   * Creates the accounts that do not exist yet. Inside a posting's transaction (step 1); a caller
   * may also run it before, without one: an account created in a transaction still open makes every
   * concurrent posting that needs the same account wait for that commit, one created on its own
   * commits at once (an unused empty account changes no balance). Existing keys are filtered out by
   * a plain read first: ON CONFLICT alone would wait for any open transaction that changed the row
   * (a hot account's balance), since its unique check sees that transaction's row version.
   */
  async ensureAccounts(specs: readonly AccountSpec[], t?: Transaction): Promise<void> {
    const all = [...specs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    await this.sequelize.query(
      `INSERT INTO ledger_accounts (key, owner_wallet, kind, ref, currency, allow_negative)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[]) AS n(key)
       WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.key = n.key)
       ON CONFLICT (key) DO NOTHING`,
      {
        bind: [all.map((a) => a.key), all.map((a) => a.owner), all.map((a) => a.kind), all.map((a) => a.ref), all.map(() => CURRENCY), all.map((a) => a.allowNegative)],
        transaction: t,
      },
    );
  }

  /**
   * Locks the accounts in key order and adds their deltas in one statement. An account that may not
   * go negative and would is left out of the update (its row stays locked until the rollback) and
   * reported as InsufficientFundsError.
   */
  private async applyDeltas(t: Transaction, keys: string[], deltas: Map<string, bigint>): Promise<Map<string, bigint>> {
    const rows = await this.sequelize.query<{ key: string; balance: string }>(
      `WITH locked AS (SELECT id, key FROM ledger_accounts WHERE key = ANY($1::text[]) ORDER BY key FOR NO KEY UPDATE)
       UPDATE ledger_accounts a SET balance = a.balance + d.delta
       FROM locked l JOIN unnest($1::text[], $2::numeric[]) AS d(key, delta) ON d.key = l.key
       WHERE a.id = l.id AND (a.allow_negative OR a.balance + d.delta >= 0)
       RETURNING a.key, a.balance::text AS balance`,
      { bind: [keys, keys.map((k) => deltas.get(k)!.toString())], transaction: t, type: QueryTypes.SELECT },
    );
    const balances = new Map(rows.map((r) => [r.key, BigInt(r.balance)]));
    const refused = keys.find((k) => !balances.has(k));
    if (refused) {
      const balance = await this.balance(refused, t);
      throw new InsufficientFundsError(refused, balance, -deltas.get(refused)!);
    }
    return balances;
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
      const same = e && e.from_key === tr.from.key && e.to_key === tr.to.key && BigInt(e.amount) === tr.amount && e.kind === tr.kind && e.reference === (tr.reference ?? null);
      if (!same) throw new LedgerConflictError(tr.id);
    }
  }

  /**
   * Current balance of one account (0 when it does not exist yet). `lock` holds its row until the
   * transaction ends, for a caller that decides an amount from the balance (claim everything).
   */
  async balance(key: string, t?: Transaction, options: { lock?: boolean } = {}): Promise<bigint> {
    const rows = await this.sequelize.query<{ balance: string }>(`SELECT balance::text AS balance FROM ledger_accounts WHERE key = $1${options.lock ? " FOR UPDATE" : ""}`, {
      bind: [key],
      transaction: t,
      type: QueryTypes.SELECT,
    });
    return rows[0] ? BigInt(rows[0].balance) : 0n;
  }

  private async balances(keys: string[], t: Transaction): Promise<Map<string, bigint>> {
    const rows = await this.sequelize.query<{ key: string; balance: string }>(`SELECT key, balance::text AS balance FROM ledger_accounts WHERE key = ANY($1::text[])`, {
      bind: [keys],
      transaction: t,
      type: QueryTypes.SELECT,
    });
    return new Map(rows.map((r) => [r.key, BigInt(r.balance)]));
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
