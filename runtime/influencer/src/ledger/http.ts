// Request pieces shared by the money routes: amount fields and the idempotent POST wrapper.
import type { Request, Response } from "express";
import type { Sequelize, Transaction } from "sequelize";
import { Joi } from "@twist/shared/config";
import { type AmountError, parseAmount } from "@twist/shared/amount";
import { identityOf } from "../identity";
import { mapLedgerErrors } from "./errors";
import { hasStoredAnswer, IDEMPOTENCY_KEY_PATTERN, idempotencyKeyOf, requestHash, withIdempotency } from "./idempotency";

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

/** The idempotency scope of a money POST: the caller's wallet, its Idempotency-Key and the request's hash. */
function scopeOf(req: Request, key: string): { wallet: string; key: string; hash: string } {
  return { wallet: identityOf(req).walletAddress, key, hash: requestHash(req.method, req.path, req.body ?? null) };
}

/**
 * Whether this money POST repeats one whose answer is stored (same wallet, key and request):
 * idempotentPost will replay that answer. A missing or malformed key is no replay.
 */
export async function isStoredReplay(sequelize: Sequelize, req: Request): Promise<boolean> {
  const key = req.get("idempotency-key");
  if (!key || !IDEMPOTENCY_KEY_PATTERN.test(key)) return false;
  let scope: ReturnType<typeof scopeOf>;
  try {
    scope = scopeOf(req, key);
  } catch {
    // This runs before validation: a body too deeply nested to hash (a stack overflow) was never
    // stored, since stored bodies passed validation. It is counted, then refused with a 400.
    return false;
  }
  return hasStoredAnswer(sequelize, scope);
}

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
  const scope = scopeOf(req, idempotencyKeyOf(req));
  const answer = await mapLedgerErrors(() => withIdempotency(sequelize, scope, (t) => effect(t, scope.wallet, scope.key)));
  if (answer.replayed) res.setHeader("Idempotent-Replayed", "true");
  res.status(answer.status).json(answer.body);
}
