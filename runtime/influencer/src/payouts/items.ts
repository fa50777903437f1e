// Payout line items (InfluencerPayoutItem): what a payout pays out. The wallet's available account
// is treated as a queue of credits (rewards, commissions, claims, unstaked funds, funds returned by a
// voided payout) consumed first-in first-out by its debits (stakes, payout reservations), in ledger
// order (seq). A payout's items are the credits, or parts of credits, its reservation consumed, so
// they sum exactly to the payout amount. Computed and stored inside the reservation's transaction,
// which holds the available account's row lock: no other posting to it can interleave.
import { QueryTypes, type Sequelize, type Transaction } from "sequelize";
import { account } from "../ledger";

export type PayoutItemKind = "reward" | "commission" | "claim" | "unstake" | "payout_return";

export interface PayoutItem {
  kind: PayoutItemKind;
  amount: string;
  /** What the credit came from: the VAU id (reward), conversion id (commission), pool id (claim, unstake), voided payout id (payout_return). */
  reference: string | null;
  occurredAt: string;
}

/** Ledger transfer kind of a credit to `available` -> item kind. */
const ITEM_KIND: Record<string, PayoutItemKind> = {
  reward: "reward",
  commission_influencer_share: "commission",
  claim: "claim",
  unstake: "unstake",
  payout_void: "payout_return",
};

export async function recordPayoutItems(sequelize: Sequelize, t: Transaction, payout: { id: string; wallet: string; amount: bigint; reserveTransferId: string }): Promise<PayoutItem[]> {
  const rows = await sequelize.query<{ id: string; kind: string; reference: string | null; created_at: Date; take: string }>(
    `WITH acc AS (SELECT id FROM ledger_accounts WHERE key = $1),
          r AS (SELECT seq FROM ledger_transfers WHERE id = $2),
          consumed AS (SELECT COALESCE(SUM(t.amount), 0) AS before FROM ledger_transfers t, acc, r WHERE t.debit_account_id = acc.id AND t.seq < r.seq),
          lots AS (SELECT t.id, t.kind, t.reference, t.created_at, t.seq, t.amount, SUM(t.amount) OVER (ORDER BY t.seq) - t.amount AS start
                     FROM ledger_transfers t, acc, r WHERE t.credit_account_id = acc.id AND t.seq < r.seq)
     SELECT lots.id, lots.kind, lots.reference, lots.created_at,
            (LEAST(lots.start + lots.amount, consumed.before + $3::numeric) - GREATEST(lots.start, consumed.before))::text AS take
       FROM lots, consumed
      WHERE lots.start < consumed.before + $3::numeric AND lots.start + lots.amount > consumed.before
      ORDER BY lots.seq`,
    { bind: [account.available(payout.wallet).key, payout.reserveTransferId, payout.amount.toString()], transaction: t, type: QueryTypes.SELECT },
  );
  const items = rows.map((r) => ({
    transferId: r.id,
    kind: ITEM_KIND[r.kind] ?? (r.kind as PayoutItemKind),
    amount: r.take,
    reference: r.reference,
    occurredAt: new Date(r.created_at).toISOString(),
  }));
  // The balance check passed, so the credits cover the reservation; a shortfall is a ledger bug.
  const total = items.reduce((sum, i) => sum + BigInt(i.amount), 0n);
  if (total !== payout.amount) throw new Error(`payout ${payout.id}: items sum to ${total}, not ${payout.amount}`);
  await sequelize.query(
    `INSERT INTO payout_items (payout_id, position, kind, transfer_id, reference, amount, occurred_at)
     SELECT $1::uuid, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::timestamptz[])`,
    {
      bind: [
        payout.id,
        items.map((_, i) => i),
        items.map((i) => i.kind),
        items.map((i) => i.transferId),
        items.map((i) => i.reference),
        items.map((i) => i.amount),
        items.map((i) => i.occurredAt),
      ],
      transaction: t,
    },
  );
  return items.map(({ transferId: _transferId, ...item }) => item);
}

export async function payoutItems(sequelize: Sequelize, payoutId: string): Promise<PayoutItem[]> {
  const rows = await sequelize.query<{ kind: PayoutItemKind; amount: string; reference: string | null; occurred_at: Date }>(
    `SELECT kind, amount::text AS amount, reference, occurred_at FROM payout_items WHERE payout_id = $1 ORDER BY position`,
    { bind: [payoutId], type: QueryTypes.SELECT },
  );
  return rows.map((r) => ({ kind: r.kind, amount: r.amount, reference: r.reference, occurredAt: new Date(r.occurred_at).toISOString() }));
}
