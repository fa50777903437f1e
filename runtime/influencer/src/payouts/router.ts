// /api/v1/payouts: own balance, request (Idempotency-Key; destination is always the caller's own
// verified wallet), list and read own payouts (one payout with its line items). Another wallet's payout is 404.
import { Router } from "express";
import { Joi } from "@twist/shared/config";
import { formatAmount } from "@twist/shared/amount";
import { validate } from "@twist/service";
import type { AppContext } from "../app";
import { identityOf } from "../identity";
import { amountField, idempotentPost } from "../ledger/http";
import { payoutItems } from "./items";
import type { PayoutView } from "./service";

const requestSchema = Joi.object({ amount: amountField().required() });
const listSchema = Joi.object({ limit: Joi.number().integer().min(1).max(100).default(20), cursor: Joi.string().max(64) });

export function payoutsRouter(ctx: AppContext): Router {
  const { payouts, settlementQueue: queue } = ctx.money;
  const { sequelize, identity: auth, logger } = ctx;
  const router = Router();

  router.get("/api/v1/payouts/balance", auth.requireIdentity, async (req, res) => {
    const { rules } = payouts;
    res.json({
      ...(await payouts.balance(identityOf(req).walletAddress)),
      rules: { minAmount: formatAmount(rules.minAmount), feeFlat: formatAmount(rules.feeFlat), feeBps: rules.feeBps },
    });
  });

  router.post("/api/v1/payouts", auth.requireIdentity, async (req, res) => {
    const { amount } = validate(requestSchema, req.body) as { amount: bigint };
    payouts.quote(amount);
    let created: PayoutView | null = null;
    await idempotentPost(sequelize, req, res, async (t, wallet) => {
      created = await payouts.request(t, wallet, amount);
      return { status: 202, body: { payout: created } };
    });
    if (created) {
      const id = (created as PayoutView).id;
      // After commit. A lost enqueue is not lost money: the worker's sweep picks pending payouts up.
      await queue.enqueue(id).catch((err: unknown) => logger.warn({ err, payoutId: id }, "settlement enqueue failed; the sweep will retry"));
    }
  });

  router.get("/api/v1/payouts", auth.requireIdentity, async (req, res) => {
    const q = validate(listSchema, req.query) as { limit: number; cursor?: string };
    res.json(await payouts.list(identityOf(req).walletAddress, q.limit, q.cursor));
  });

  router.get("/api/v1/payouts/:id", auth.requireIdentity, async (req, res) => {
    const payout = await payouts.get(identityOf(req).walletAddress, String(req.params.id));
    res.json({ payout: { ...payout, items: await payoutItems(sequelize, payout.id) } });
  });

  return router;
}
