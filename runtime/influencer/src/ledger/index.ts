export { account, CURRENCY, SYSTEM_SHARDS, systemShardOf, type AccountSpec, type SystemAccount } from "./accounts";
export { Ledger, LedgerError, InsufficientFundsError, LedgerConflictError, type TransferInput, type PostResult } from "./ledger";
export { checkLedgerInvariants, type InvariantReport } from "./invariants";
export { withIdempotency, idempotencyKeyOf, requestHash, IDEMPOTENCY_KEY_PATTERN } from "./idempotency";
export { asApiError, mapLedgerErrors } from "./errors";
