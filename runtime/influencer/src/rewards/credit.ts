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
// many messages it carries. Per-message outcomes are decided inside it, so one bad message never
// blocks the rest. A database error fails the transaction: the batch is split in halves and each
// half retried, so a failure that one message causes ends as `failed` for that message alone.
import { QueryTypes, type Transaction } from "sequelize";
import { formatAmount, parseAmount } from "@twist/shared/amount";
import { validateRewardMessage, type RewardDeliveryResult, type RewardMessageV1 } from "@twist/shared/messages";
import type { Logger } from "@twist/shared/logger";
import { account, Ledger, LedgerConflictError, type TransferInput } from "../ledger";
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

/** A concurrent delivery credited one of our ids between our read and our insert: run the batch again. */
class CreditRace extends Error {}

const RACE_ATTEMPTS = 3;

export class RewardCredits {
  constructor(
    private readonly ledger: Ledger,
    private readonly options: RewardCreditOptions,
    private readonly logger: Logger,
  ) {}

  /** One result per message, in order. */
  async deliver(messages: unknown[]): Promise<RewardDeliveryResult[]> {
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
      if (first !== undefined) return copies.push({ index, of: first });
      firstIndex.set(m.id, index);
      candidates.push({ message: m, amount: parseAmount(m.earned), day: m.receivedAt.slice(0, 10) });
    });
    for (const [id, result] of await this.creditSplitting(candidates)) results[firstIndex.get(id)!] = result;
    // A second copy of a vauId in the same delivery: a duplicate of the first when identical,
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
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.ledger.transaction((t) => this.creditBatch(t, candidates));
      } catch (err) {
        if (!(err instanceof CreditRace) || attempt === RACE_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * The set-based credit of one delivery, one statement per table:
   *   users (recipients exist from their first credit) -> reward_daily_totals (the wallet-days,
   *   locked in key order: deliveries to one wallet-day take turns) -> ledger_transfers read (ids
   *   already credited: duplicate or CONFLICT) -> the cap, per wallet-day in message order ->
   *   ledger post (accounts, transfers, balances) -> reward_daily_totals update.
   */
  private async creditBatch(t: Transaction, candidates: Candidate[]): Promise<Map<string, RewardDeliveryResult>> {
    const sequelize = this.ledger.sequelize;
    const wallets = [...new Set(candidates.map((c) => c.message.walletAddress))];
    await sequelize.query(`INSERT INTO users (wallet_address) SELECT w FROM unnest($1::text[]) AS w ORDER BY w ON CONFLICT (wallet_address) DO NOTHING`, {
      bind: [wallets],
      transaction: t,
    });

    const pairs = [...new Map(candidates.map((c) => [`${c.message.walletAddress}|${c.day}`, c])).values()];
    const totalRows = await sequelize.query<{ wallet: string; day: string; total: string }>(
      `INSERT INTO reward_daily_totals AS r (wallet, day, total)
       SELECT w, d, 0 FROM unnest($1::text[], $2::date[]) AS p(w, d) ORDER BY w, d
       ON CONFLICT (wallet, day) DO UPDATE SET total = r.total
       RETURNING wallet, to_char(day, 'YYYY-MM-DD') AS day, total::text AS total`,
      { bind: [pairs.map((c) => c.message.walletAddress), pairs.map((c) => c.day)], transaction: t, type: QueryTypes.SELECT },
    );
    const totals = new Map(totalRows.map((r) => [`${r.wallet}|${r.day}`, BigInt(r.total)]));

    const existing = await sequelize.query<{ id: string; to_key: string; amount: string }>(
      `SELECT t.id, c.key AS to_key, t.amount::text AS amount FROM ledger_transfers t JOIN ledger_accounts c ON c.id = t.credit_account_id
       WHERE t.id = ANY($1::text[])`,
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

    const transfers = credited.map((c): TransferInput => ({
      id: transferId(c.message),
      from: account.system("rewards"),
      to: account.available(c.message.walletAddress),
      amount: c.amount,
      kind: "reward",
      reference: c.message.id,
    }));
    let balances: Map<string, bigint>;
    try {
      const posted = await this.ledger.post(t, transfers);
      if (posted.applied.some((a) => !a)) throw new CreditRace();
      balances = posted.balances;
    } catch (err) {
      // A concurrent delivery (of the same id for another wallet-day) got there between our read and
      // our insert; the next attempt reads it as duplicate or CONFLICT.
      throw err instanceof LedgerConflictError ? new CreditRace() : err;
    }
    const added = new Map<string, bigint>();
    for (const c of credited) added.set(`${c.message.walletAddress}|${c.day}`, (added.get(`${c.message.walletAddress}|${c.day}`) ?? 0n) + c.amount);
    const rows = [...added].map(([key, amount]) => [...key.split("|"), amount.toString()] as const);
    await sequelize.query(
      `UPDATE reward_daily_totals r SET total = r.total + a.amount
       FROM unnest($1::text[], $2::date[], $3::numeric[]) AS a(wallet, day, amount) WHERE r.wallet = a.wallet AND r.day = a.day`,
      { bind: [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])], transaction: t },
    );
    await recordEvents(t, creditedEvents(credited, balances));
    return results;
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
