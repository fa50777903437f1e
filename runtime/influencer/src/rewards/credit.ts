// Reward credits (contract 4): each reward message credits its wallet's available account once,
// keyed by the vauId (transfer id `reward:<vauId>`), within a per-wallet daily cap.
//
// Outcomes per message (the edge consumer acks all but `failed`):
//   credited  - posted now;
//   duplicate - the same vauId was already credited with the same wallet and amount (also a
//               second copy inside one delivery);
//   rejected  - permanent, never retried: INVALID_MESSAGE (fails validateRewardMessage),
//               CONFLICT (vauId already credited with another wallet or amount),
//               DAILY_CAP_EXCEEDED (the wallet's credits for the UTC day of receivedAt would pass the cap);
//   failed    - transient (database error); the edge retries and the vauId keeps it idempotent.
//
// A delivery is credited in one transaction with one statement per table (creditBatch), however
// many messages it carries; deliveries that arrive together share one (deliver). Per-message
// outcomes are decided inside it, so one bad message never blocks the rest. A database error fails
// the transaction: the batch is split in halves and each half retried, so a failure that one message causes ends as `failed` for that message alone.
import { QueryTypes, type Transaction } from "sequelize";
import { formatAmount, parseAmount } from "@twist/shared/amount";
import { validateRewardMessage, type RewardDeliveryResult, type RewardMessageV1 } from "@twist/shared/messages";
import type { Logger } from "@twist/shared/logger";
import { account, type AccountSpec, type Ledger, LedgerConflictError, SYSTEM_SHARDS, type TransferInput } from "../ledger";
import { recordEvents, type NewEvent } from "../events/record";

export interface RewardCreditOptions {
  /** Most a wallet may be credited per UTC day, base units. */
  dailyCap: bigint;
}

interface Candidate {
  message: RewardMessageV1;
  amount: bigint;
  day: string;
}

/**
 * A concurrent delivery, between our reads and our writes, credited one of our ids or raised a
 * wallet-day total so that our credits no longer fit the cap: run the batch again.
 */
class CreditRace extends Error {}

const RACE_ATTEMPTS = 3;
/** Credit transactions a process runs at once, and the most messages one of them carries. */
const CREDIT_WRITERS = 2;
const GROUP_MESSAGES = 1000;
/** Recipients (and system:rewards shards) whose accounts this process knows exist. */
const KNOWN_RECIPIENTS = 100_000;

interface WaitingDelivery {
  messages: unknown[];
  resolve: (results: RewardDeliveryResult[]) => void;
  reject: (err: unknown) => void;
}

export class RewardCredits {
  /** The system:rewards shard of the next delivery: concurrent deliveries of this process take different ones. */
  private nextShard = 0;
  private readonly waiting: WaitingDelivery[] = [];
  private writers = 0;
  /** Wallets and shard keys whose users and accounts exist (ensureRecipients). */
  private readonly known = new Set<string>();

  constructor(
    private readonly ledger: Ledger,
    private readonly options: RewardCreditOptions,
    private readonly logger: Logger,
  ) {}

  /**
   * One result per message, in order. Deliveries that arrive while CREDIT_WRITERS transactions are
   * running wait and are then credited together, up to GROUP_MESSAGES messages in one transaction:
   * concurrent deliveries never contend for each other's wallet rows, and a busy backend writes
   * larger batches instead of more transactions. Outcomes are those of crediting the deliveries one
   * after the other in arrival order (a vauId in two of them: the later copy is a duplicate).
   */
  deliver(messages: unknown[]): Promise<RewardDeliveryResult[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ messages, resolve, reject });
      this.startWriters();
    });
  }

  private startWriters(): void {
    while (this.writers < CREDIT_WRITERS && this.waiting.length > 0) {
      const group = [this.waiting.shift()!];
      let size = group[0]!.messages.length;
      while (this.waiting.length > 0 && size + this.waiting[0]!.messages.length <= GROUP_MESSAGES) {
        size += this.waiting[0]!.messages.length;
        group.push(this.waiting.shift()!);
      }
      this.writers++;
      void this.creditGroup(group).finally(() => {
        this.writers--;
        this.startWriters();
      });
    }
  }

  private async creditGroup(group: WaitingDelivery[]): Promise<void> {
    try {
      const results = await this.creditMessages(group.flatMap((d) => d.messages));
      let at = 0;
      for (const d of group) {
        d.resolve(results.slice(at, at + d.messages.length));
        at += d.messages.length;
      }
    } catch (err) {
      for (const d of group) d.reject(err);
    }
  }

  private async creditMessages(messages: unknown[]): Promise<RewardDeliveryResult[]> {
    const results: (RewardDeliveryResult | null)[] = messages.map(() => null);
    const firstIndex = new Map<string, number>();
    const candidates: Candidate[] = [];
    const copies: { index: number; of: number }[] = [];
    messages.forEach((raw, index) => {
      const checked = validateRewardMessage(raw);
      if (!checked.ok) {
        const id = (raw as { id?: unknown } | null)?.id;
        results[index] = { id: typeof id === "string" ? id.slice(0, 128) : null, status: "rejected", code: "INVALID_MESSAGE", message: checked.errors.join("; ") };
        return;
      }
      const m = checked.value;
      const first = firstIndex.get(m.id);
      if (first !== undefined) {
        copies.push({ index, of: first });
        return;
      }
      firstIndex.set(m.id, index);
      candidates.push({ message: m, amount: parseAmount(m.earned), day: m.receivedAt.slice(0, 10) });
    });
    for (const [id, result] of await this.creditSplitting(candidates)) results[firstIndex.get(id)!] = result;
    // A second copy of a vauId in the same transaction: a duplicate of the first when identical,
    // otherwise the same id with another body.
    for (const { index, of } of copies) {
      const first = results[of]!;
      const same = sameCredit(messages[index] as RewardMessageV1, messages[of] as RewardMessageV1);
      results[index] =
        !same && (first.status === "credited" || first.status === "duplicate")
          ? conflict(first.id!)
          : first.status === "credited"
            ? { id: first.id, status: "duplicate" }
            : { ...first };
    }
    return results as RewardDeliveryResult[];
  }

  /** Credits the candidates in one transaction; on a database error, each half on its own. */
  private async creditSplitting(candidates: Candidate[]): Promise<Map<string, RewardDeliveryResult>> {
    if (candidates.length === 0) return new Map();
    try {
      return await this.creditWithRetry(candidates);
    } catch (err) {
      if (candidates.length === 1) {
        this.logger.error({ err, vauId: candidates[0]!.message.id }, "reward credit failed");
        return new Map([[candidates[0]!.message.id, { id: candidates[0]!.message.id, status: "failed", code: "UNAVAILABLE", message: "temporary failure; retry" }]]);
      }
      const half = Math.ceil(candidates.length / 2);
      const [a, b] = await Promise.all([this.creditSplitting(candidates.slice(0, half)), this.creditSplitting(candidates.slice(half))]);
      return new Map([...a, ...b]);
    }
  }

  private async creditWithRetry(candidates: Candidate[]): Promise<Map<string, RewardDeliveryResult>> {
    const source = account.system("rewards", this.nextShard);
    this.nextShard = (this.nextShard + 1) % SYSTEM_SHARDS;
    for (let attempt = 1; ; attempt++) {
      await this.ensureRecipients(source, candidates);
      try {
        return await this.ledger.transaction((t) => this.creditBatch(t, source, candidates));
      } catch (err) {
        // A remembered account that is gone (a database restored under this process) fails the
        // posting as a race too: the next attempt creates what it needs again.
        this.forget(source, candidates);
        if (!(err instanceof CreditRace) || attempt === RACE_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * Recipients become users, with their available account, on their first credit: created ahead of
   * the credit's transaction, each in its own short statement, so deliveries that share a new wallet
   * wait for that statement only, never for each other's whole transaction. Idempotent; if the credit
   * then fails, an empty user and account stay (no balance moved). Wallets this process has seen
   * already are skipped: most credits go to returning wallets, and users and accounts are never deleted.
   */
  private async ensureRecipients(source: AccountSpec, candidates: Candidate[]): Promise<void> {
    const wallets = [...new Set(candidates.map((c) => c.message.walletAddress))].filter((w) => !this.known.has(w)).sort();
    if (wallets.length === 0 && this.known.has(source.key)) return;
    await this.ledger.sequelize.query(
      `INSERT INTO users (wallet_address) SELECT w FROM unnest($1::text[]) AS w
       WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.wallet_address = w) ON CONFLICT (wallet_address) DO NOTHING`,
      { bind: [wallets] },
    );
    await this.ledger.ensureAccounts([source, ...wallets.map((w) => account.available(w))]);
    for (const key of [source.key, ...wallets]) {
      this.known.add(key);
      // A Set iterates in insertion order: past the bound, the longest remembered goes first.
      if (this.known.size > KNOWN_RECIPIENTS) this.known.delete(this.known.values().next().value!);
    }
  }

  private forget(source: AccountSpec, candidates: Candidate[]): void {
    this.known.delete(source.key);
    for (const c of candidates) this.known.delete(c.message.walletAddress);
  }

  /**
   * The set-based credit of one group, one statement per table: reward_daily_totals read (no lock)
   * -> ledger_transfers read (ids already credited: duplicate or CONFLICT) -> the cap, per
   * wallet-day in message order -> ledger post (accounts, transfers, balances; the shard and user
   * accounts locked in key order) -> reward_daily_totals conditional add (wallet-day rows locked
   * in key order) -> events.
   */
  private async creditBatch(t: Transaction, source: AccountSpec, candidates: Candidate[]): Promise<Map<string, RewardDeliveryResult>> {
    const sequelize = this.ledger.sequelize;
    // Read without a lock: totals only grow, so a cap refusal against this read stands, and what is
    // credited is checked again by the conditional add at the end (addToDailyTotals).
    const pairs = [...new Map(candidates.map((c) => [`${c.message.walletAddress}|${c.day}`, c])).values()];
    const totalRows = await sequelize.query<{ wallet: string; day: string; total: string }>(
      `SELECT r.wallet, to_char(r.day, 'YYYY-MM-DD') AS day, r.total::text AS total
       FROM reward_daily_totals r JOIN unnest($1::text[], $2::date[]) AS p(w, d) ON r.wallet = p.w AND r.day = p.d`,
      { bind: [pairs.map((c) => c.message.walletAddress), pairs.map((c) => c.day)], transaction: t, type: QueryTypes.SELECT },
    );
    const totals = new Map(pairs.map((c) => [`${c.message.walletAddress}|${c.day}`, 0n]));
    for (const r of totalRows) totals.set(`${r.wallet}|${r.day}`, BigInt(r.total));

    // One index probe per id (LATERAL ... LIMIT 1): a hash join over the whole table, which the
    // planner prefers for a young table, costs more with every transfer posted.
    const existing = await sequelize.query<{ id: string; to_key: string; amount: string }>(
      `SELECT t.id, c.key AS to_key, t.amount::text AS amount FROM unnest($1::text[]) AS x(id)
       CROSS JOIN LATERAL (SELECT id, credit_account_id, amount FROM ledger_transfers WHERE id = x.id LIMIT 1) t
       JOIN ledger_accounts c ON c.id = t.credit_account_id`,
      { bind: [candidates.map((c) => transferId(c.message))], transaction: t, type: QueryTypes.SELECT },
    );
    const earlier = new Map(existing.map((r) => [r.id, r]));

    const results = new Map<string, RewardDeliveryResult>();
    const credited: Candidate[] = [];
    for (const c of candidates) {
      const id = c.message.id;
      const before = earlier.get(transferId(c.message));
      if (before) {
        const same = before.to_key === account.available(c.message.walletAddress).key && BigInt(before.amount) === c.amount;
        results.set(id, same ? { id, status: "duplicate" } : conflict(id));
        continue;
      }
      const key = `${c.message.walletAddress}|${c.day}`;
      const total = totals.get(key)! + c.amount;
      if (total > this.options.dailyCap) {
        results.set(id, { id, status: "rejected", code: "DAILY_CAP_EXCEEDED", message: `daily reward cap of ${formatAmount(this.options.dailyCap)} reached` });
        continue;
      }
      totals.set(key, total);
      credited.push(c);
      results.set(id, { id, status: "credited" });
    }
    if (credited.length === 0) return results;

    const transfers = credited.map(
      (c): TransferInput => ({
        id: transferId(c.message),
        from: source,
        to: account.available(c.message.walletAddress),
        amount: c.amount,
        kind: "reward",
        reference: c.message.id,
      }),
    );
    let balances: Map<string, bigint>;
    try {
      const posted = await this.ledger.post(t, transfers, { accountsExist: true }); // ensureRecipients made them
      if (posted.applied.some((a) => !a)) throw new CreditRace();
      balances = posted.balances;
    } catch (err) {
      // A concurrent delivery (of the same id for another wallet-day) got there between our read and
      // our insert; the next attempt reads it as duplicate or CONFLICT.
      throw err instanceof LedgerConflictError ? new CreditRace() : err;
    }
    const added = new Map<string, bigint>();
    for (const c of credited) added.set(`${c.message.walletAddress}|${c.day}`, (added.get(`${c.message.walletAddress}|${c.day}`) ?? 0n) + c.amount);
    await this.addToDailyTotals(t, added);
    await recordEvents(t, creditedEvents(credited, balances));
    return results;
  }

  /**
   * Adds each wallet-day's credits to its total, only where the sum stays within the cap; the rows
   * are locked from here to the commit (wallet-day order). A total another delivery raised since
   * our read, so that ours no longer fits, is a CreditRace: the attempt is rolled back and run
   * again on fresh totals.
   */
  private async addToDailyTotals(t: Transaction, added: Map<string, bigint>): Promise<void> {
    const rows = [...added].map(([key, amount]) => [...key.split("|"), amount.toString()] as const);
    const updated = await this.ledger.sequelize.query<{ wallet: string }>(
      `INSERT INTO reward_daily_totals AS r (wallet, day, total)
       SELECT * FROM unnest($1::text[], $2::date[], $3::numeric[]) ORDER BY 1, 2
       ON CONFLICT (wallet, day) DO UPDATE SET total = r.total + EXCLUDED.total WHERE r.total + EXCLUDED.total <= $4::numeric
       RETURNING r.wallet`,
      { bind: [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), this.options.dailyCap.toString()], transaction: t, type: QueryTypes.SELECT },
    );
    if (updated.length !== rows.length) throw new CreditRace();
  }
}

const transferId = (m: RewardMessageV1) => `reward:${m.id}`;

function sameCredit(a: RewardMessageV1, b: RewardMessageV1): boolean {
  return a.walletAddress === b.walletAddress && parseAmount(a.earned) === parseAmount(b.earned);
}

function conflict(id: string): RewardDeliveryResult {
  return { id, status: "rejected", code: "CONFLICT", message: "this vauId was already credited with a different wallet or amount" };
}

/**
 * One reward.credited event per credited message, with the wallet's available balance right after
 * that credit: the batch's final balance less the credits to the wallet that come after it.
 */
function creditedEvents(credited: readonly Candidate[], balances: Map<string, bigint>): NewEvent[] {
  const running = new Map<string, bigint>();
  const events: NewEvent[] = [];
  for (const c of [...credited].reverse()) {
    const wallet = c.message.walletAddress;
    const available = running.get(wallet) ?? balances.get(account.available(wallet).key)!;
    running.set(wallet, available - c.amount);
    events.push({ wallet, type: "reward.credited", data: { vauId: c.message.id, amount: c.message.earned, available: formatAmount(available) } });
  }
  return events.reverse();
}
