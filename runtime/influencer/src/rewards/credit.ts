// Reward credits (contract 4): each reward message credits its wallet's available account once,
// keyed by the vauId (transfer id `reward:<vauId>`), within a per-wallet daily cap.
//
// Outcomes per message (the edge consumer acks all but `failed`):
//   credited  - posted now;
//   duplicate - the same vauId was already credited with the same wallet and amount;
//   rejected  - permanent, never retried: INVALID_MESSAGE (fails validateRewardMessage),
//               CONFLICT (vauId already credited with another wallet or amount),
//               DAILY_CAP_EXCEEDED (the wallet's credits for the UTC day of receivedAt would pass the cap);
//   failed    - transient (database error); the edge retries and the vauId keeps it idempotent.
import { QueryTypes, type Transaction } from "sequelize";
import { formatAmount, parseAmount } from "@twist/shared/amount";
import { validateRewardMessage, type RewardDeliveryResult, type RewardMessageV1 } from "@twist/shared/messages";
import type { Logger } from "@twist/shared/logger";
import { account, Ledger, LedgerConflictError } from "../ledger";
import { recordEvents } from "../events/record";

export interface RewardCreditOptions {
  /** Most a wallet may be credited per UTC day, base units. */
  dailyCap: bigint;
}

class DailyCapExceeded extends Error {}

export class RewardCredits {
  constructor(
    private readonly ledger: Ledger,
    private readonly options: RewardCreditOptions,
    private readonly logger: Logger,
  ) {}

  /** One result per message, in order. Messages are posted one by one: one bad item never blocks the rest. */
  async deliver(messages: unknown[]): Promise<RewardDeliveryResult[]> {
    const results: RewardDeliveryResult[] = [];
    for (const raw of messages) results.push(await this.creditOne(raw));
    return results;
  }

  async creditOne(raw: unknown): Promise<RewardDeliveryResult> {
    const checked = validateRewardMessage(raw);
    if (!checked.ok) {
      const id = (raw as { id?: unknown } | null)?.id;
      return { id: typeof id === "string" ? id.slice(0, 128) : null, status: "rejected", code: "INVALID_MESSAGE", message: checked.errors.join("; ") };
    }
    const m = checked.value;
    try {
      const applied = await this.ledger.transaction((t) => this.post(t, m));
      return applied ? { id: m.id, status: "credited" } : { id: m.id, status: "duplicate" };
    } catch (err) {
      if (err instanceof LedgerConflictError) {
        return { id: m.id, status: "rejected", code: "CONFLICT", message: "this vauId was already credited with a different wallet or amount" };
      }
      if (err instanceof DailyCapExceeded) {
        return { id: m.id, status: "rejected", code: "DAILY_CAP_EXCEEDED", message: `daily reward cap of ${formatAmount(this.options.dailyCap)} reached` };
      }
      this.logger.error({ err, vauId: m.id }, "reward credit failed");
      return { id: m.id, status: "failed", code: "UNAVAILABLE", message: "temporary failure; retry" };
    }
  }

  private async post(t: Transaction, m: RewardMessageV1): Promise<boolean> {
    const amount = parseAmount(m.earned);
    const sequelize = this.ledger.sequelize;
    // The recipient exists from its first credit on (same users table identity lookups create).
    await sequelize.query(`INSERT INTO users (wallet_address) VALUES ($1) ON CONFLICT (wallet_address) DO NOTHING`, {
      bind: [m.walletAddress],
      transaction: t,
    });
    const { applied, balances } = await this.ledger.transfer(t, {
      id: `reward:${m.id}`,
      from: account.system("rewards"),
      to: account.available(m.walletAddress),
      amount,
      kind: "reward",
      reference: m.id,
    });
    if (!applied) return false;
    const day = m.receivedAt.slice(0, 10);
    const capped = await sequelize.query<{ total: string }>(
      `INSERT INTO reward_daily_totals AS r (wallet, day, total) VALUES ($1, $2::date, $3::numeric)
       ON CONFLICT (wallet, day) DO UPDATE SET total = r.total + EXCLUDED.total
       RETURNING total::text AS total`,
      { bind: [m.walletAddress, day, amount.toString()], transaction: t, type: QueryTypes.SELECT },
    );
    // Over the cap: throwing rolls the transfer back with the total.
    if (BigInt(capped[0]!.total) > this.options.dailyCap) throw new DailyCapExceeded();
    const available = formatAmount(balances.get(account.available(m.walletAddress).key)!);
    await recordEvents(t, [{ wallet: m.walletAddress, type: "reward.credited", data: { vauId: m.id, amount: m.earned, available } }]);
    return true;
  }
}
