// Idempotency-Key for money routes (stake, unstake, claim, payout). Keys are scoped per wallet. The
// key row is inserted in the same transaction as the effect, so:
//   - the same key + same body replays the stored answer and has no second effect;
//   - a concurrent request with the same key waits on the row (unique index) and then replays;
//   - the same key + a different body is 409 CONFLICT (IDEMPOTENCY_KEY_REUSED);
//   - a request that fails (4xx/5xx) stores nothing, so the key can be retried.
import { createHash } from "node:crypto";
import type { Request } from "express";
import { QueryTypes, type Sequelize, type Transaction } from "sequelize";
import { conflict, validationError } from "@twist/shared/errors";

export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

export interface StoredAnswer<T> {
  status: number;
  body: T;
  replayed: boolean;
}

export function idempotencyKeyOf(req: Request): string {
  const key = req.get("idempotency-key");
  if (!key) throw validationError("Idempotency-Key header is required", [{ field: "Idempotency-Key", message: "is required" }]);
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw validationError("Idempotency-Key is invalid", [{ field: "Idempotency-Key", message: "must be 8-128 of [A-Za-z0-9_.:-]" }]);
  }
  return key;
}

/** Hash of what makes two requests "the same": method, route target and the parsed body. */
export function requestHash(method: string, path: string, body: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify([method, path, canonical(body)]))
    .digest("hex");
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * Whether (wallet, key) holds a stored answer to this same request: a replay, which
 * withIdempotency answers from the row without running anything. Rows are only visible once their
 * transaction committed, and by then they carry the answer.
 */
export async function hasStoredAnswer(sequelize: Sequelize, scope: { wallet: string; key: string; hash: string }): Promise<boolean> {
  const rows = await sequelize.query<{ found: number }>(`SELECT 1 AS found FROM idempotency_keys WHERE wallet = $1 AND key = $2 AND request_hash = $3`, {
    bind: [scope.wallet, scope.key, scope.hash],
    type: QueryTypes.SELECT,
  });
  return rows.length > 0;
}

/**
 * Runs `effect` once per (wallet, key): inside one transaction, claims the key, runs the effect and
 * stores its answer. A replay returns the stored answer without running anything.
 */
export async function withIdempotency<T>(
  sequelize: Sequelize,
  scope: { wallet: string; key: string; hash: string },
  effect: (t: Transaction) => Promise<{ status: number; body: T }>,
): Promise<StoredAnswer<T>> {
  return sequelize.transaction(async (t) => {
    const claimed = await sequelize.query<{ key: string }>(
      `INSERT INTO idempotency_keys (wallet, key, request_hash, status, response) VALUES ($1, $2, $3, 0, 'null'::jsonb)
       ON CONFLICT (wallet, key) DO NOTHING RETURNING key`,
      { bind: [scope.wallet, scope.key, scope.hash], transaction: t, type: QueryTypes.SELECT },
    );
    if (claimed.length === 0) {
      const [stored] = await sequelize.query<{ request_hash: string; status: number; response: T }>(
        `SELECT request_hash, status, response FROM idempotency_keys WHERE wallet = $1 AND key = $2`,
        { bind: [scope.wallet, scope.key], transaction: t, type: QueryTypes.SELECT },
      );
      if (!stored || stored.request_hash !== scope.hash) {
        throw conflict("Idempotency-Key was already used with a different request", { reason: "IDEMPOTENCY_KEY_REUSED" });
      }
      return { status: stored.status, body: stored.response, replayed: true };
    }
    const answer = await effect(t);
    await sequelize.query(`UPDATE idempotency_keys SET status = $3, response = $4::jsonb WHERE wallet = $1 AND key = $2`, {
      bind: [scope.wallet, scope.key, answer.status, JSON.stringify(answer.body)],
      transaction: t,
    });
    return { ...answer, replayed: false };
  });
}
