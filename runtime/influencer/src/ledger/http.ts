// Request pieces shared by the money routes: amount fields and the idempotent POST wrapper.
import type { Request, Response } from "express";
import type { Sequelize, Transaction } from "sequelize";
import { Joi } from "@twist/shared/config";
import { type AmountError, parseAmount } from "@twist/shared/amount";
import { identityOf } from "../identity";
import { mapLedgerErrors } from "./errors";
import { idempotencyKeyOf, requestHash, withIdempotency } from "./idempotency";

/** Contract 5 amount: a positive integer string of base units -> bigint. */
export const amountField = () =>
  Joi.any()
    .custom((value: unknown, helpers) => {
      try {
        return parseAmount(value);
      } catch (err) {
        return helpers.message({ custom: (err as AmountError).message });
      }
    })
    .meta({ openapi: { $ref: "#/components/schemas/Amount" } });

/**
 * Runs a money effect once per Idempotency-Key of the caller's wallet and answers with its stored
 * result (header Idempotent-Replayed: true on a replay).
 */
export async function idempotentPost<T>(
  sequelize: Sequelize,
  req: Request,
  res: Response,
  effect: (t: Transaction, wallet: string, opId: string) => Promise<{ status: number; body: T }>,
): Promise<void> {
  const key = idempotencyKeyOf(req);
  const wallet = identityOf(req).walletAddress;
  const hash = requestHash(req.method, req.path, req.body ?? null);
  const answer = await mapLedgerErrors(() => withIdempotency(sequelize, { wallet, key, hash }, (t) => effect(t, wallet, key)));
  if (answer.replayed) res.setHeader("Idempotent-Replayed", "true");
  res.status(answer.status).json(answer.body);
}
