// GET /api/v1/me/history (StakingHistory): the caller's own ledger movements, newest first, read
// straight from ledger_transfers. Filter by kind (comma-separated), page with the opaque cursor
// nextCursor (the ledger sequence number of the last entry shown). Only transfers touching an account
// the caller's wallet owns appear; the other side of a movement is "platform" (a system account).
import { Router } from "express";
import { QueryTypes, type Sequelize } from "sequelize";
import { Joi } from "@twist/shared/config";
import { validateRequest } from "@twist/service";
import type { AppContext } from "../app";
import { identityOf } from "../identity";

export const HISTORY_KINDS = ["stake", "unstake", "claim", "reward", "commission", "payout"] as const;
export type HistoryKind = (typeof HISTORY_KINDS)[number];

/** History kind -> the ledger transfer kinds it covers. */
const LEDGER_KINDS: Record<HistoryKind, string[]> = {
  stake: ["stake"],
  unstake: ["unstake"],
  claim: ["claim"],
  reward: ["reward"],
  commission: ["commission_influencer_share", "commission_staker_share"],
  payout: ["payout_reserve", "payout_post", "payout_fee", "payout_void"],
};
const HISTORY_KIND_OF = new Map(Object.entries(LEDGER_KINDS).flatMap(([kind, ledgerKinds]) => ledgerKinds.map((k) => [k, kind as HistoryKind])));

const querySchema = Joi.object({
  kind: Joi.string()
    .max(200)
    .custom((value: string, helpers) => {
      const kinds = value.split(",").map((k) => k.trim());
      const bad = kinds.find((k) => !(HISTORY_KINDS as readonly string[]).includes(k));
      return bad === undefined ? [...new Set(kinds)] : helpers.message({ custom: `"${bad}" is not one of ${HISTORY_KINDS.join(", ")}` });
    })
    .description(`comma-separated subset of ${HISTORY_KINDS.join(", ")} (default all)`),
  limit: Joi.number().integer().min(1).max(100).default(20),
  cursor: Joi.string()
    .pattern(/^[1-9][0-9]{0,18}$/)
    .messages({ "string.pattern.base": "cursor must be a nextCursor from an earlier page" })
    .description("nextCursor of the previous page"),
});

interface Side {
  /** available | stake | pool_rewards | payout_pending for the caller's accounts, platform otherwise. */
  account: string;
  poolId?: string;
}

export interface HistoryEntry {
  id: string;
  kind: HistoryKind;
  /** The ledger transfer kind, finer than `kind` (e.g. payout_fee, commission_staker_share). */
  type: string;
  amount: string;
  from: Side;
  to: Side;
  /** VAU id (reward), conversion id (commission), pool id (stake, unstake, claim), payout id (payout). */
  reference: string | null;
  at: string;
}

interface Row {
  seq: string;
  kind: string;
  amount: string;
  reference: string | null;
  created_at: Date;
  from_kind: string;
  from_ref: string | null;
  from_mine: boolean;
  to_kind: string;
  to_ref: string | null;
  to_mine: boolean;
}

const side = (kind: string, ref: string | null, mine: boolean): Side => (!mine ? { account: "platform" } : ref ? { account: kind, poolId: ref } : { account: kind });

export async function readHistory(
  sequelize: Sequelize,
  wallet: string,
  q: { kinds: HistoryKind[]; limit: number; before?: string },
): Promise<{ entries: HistoryEntry[]; nextCursor: string | null }> {
  const rows = await sequelize.query<Row>(
    `WITH mine AS (SELECT id FROM ledger_accounts WHERE owner_wallet = $1)
     SELECT t.seq::text AS seq, t.kind, t.amount::text AS amount, t.reference, t.created_at,
            d.kind AS from_kind, d.ref AS from_ref, d.owner_wallet IS NOT DISTINCT FROM $1 AS from_mine,
            c.kind AS to_kind, c.ref AS to_ref, c.owner_wallet IS NOT DISTINCT FROM $1 AS to_mine
       FROM ledger_transfers t
       JOIN ledger_accounts d ON d.id = t.debit_account_id
       JOIN ledger_accounts c ON c.id = t.credit_account_id
      WHERE (t.debit_account_id IN (SELECT id FROM mine) OR t.credit_account_id IN (SELECT id FROM mine))
        AND t.kind = ANY($2::text[])
        AND ($3::bigint IS NULL OR t.seq < $3::bigint)
      ORDER BY t.seq DESC LIMIT $4`,
    { bind: [wallet, q.kinds.flatMap((k) => LEDGER_KINDS[k]), q.before ?? null, q.limit + 1], type: QueryTypes.SELECT },
  );
  const page = rows.slice(0, q.limit);
  return {
    entries: page.map((r) => ({
      id: r.seq,
      kind: HISTORY_KIND_OF.get(r.kind)!,
      type: r.kind,
      amount: r.amount,
      from: side(r.from_kind, r.from_ref, r.from_mine),
      to: side(r.to_kind, r.to_ref, r.to_mine),
      reference: r.reference,
      at: new Date(r.created_at).toISOString(),
    })),
    nextCursor: rows.length > q.limit ? page[page.length - 1]!.seq : null,
  };
}

export function historyRouter(ctx: AppContext): Router {
  const { sequelize, identity: auth } = ctx;
  const router = Router();
  router.get("/api/v1/me/history", auth.requireIdentity, validateRequest({ query: querySchema }), async (req, res) => {
    const q = req.valid.query as { kind?: HistoryKind[]; limit: number; cursor?: string };
    res.json(await readHistory(sequelize, identityOf(req).walletAddress, { kinds: q.kind ?? [...HISTORY_KINDS], limit: q.limit, before: q.cursor }));
  });
  return router;
}
