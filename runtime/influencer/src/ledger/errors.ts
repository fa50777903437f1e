// Ledger failures as API answers: money errors are 409s with a specific code, never 500s.
import { ApiError, conflict } from "@twist/shared/errors";
import { formatAmount } from "@twist/shared/amount";
import { InsufficientFundsError, LedgerConflictError } from "./ledger";

export function asApiError(err: unknown): unknown {
  if (err instanceof InsufficientFundsError) {
    return new ApiError("INSUFFICIENT_FUNDS", "the balance does not cover this amount", {
      details: { balance: formatAmount(err.balance), required: formatAmount(err.required) },
    });
  }
  if (err instanceof LedgerConflictError) return conflict("this movement was already recorded with different values");
  return err;
}

/** Runs `fn`, translating ledger errors to API errors. */
export async function mapLedgerErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asApiError(err);
  }
}
