// Settlement adapters: what turns a reserved (pending) payout into money that left the platform.
// The payout service posts or voids the ledger side; an adapter only moves (or records) the funds.
// Contract 5: an adapter returns a transaction id only when a real settlement produced it.

export interface PayoutToSettle {
  id: string;
  /** Owner and destination wallet (the caller's own verified wallet). */
  destination: string;
  /** Base units sent (amount - fee). */
  net: bigint;
  /** Signature of a transaction an earlier attempt signed and may have sent (Solana), else null. */
  attemptSignature: string | null;
  attemptLastValidHeight: bigint | null;
}

export interface SettlementHooks {
  /**
   * Persists the signature of a transaction before it is sent, so a retry can look it up first.
   * Throws when another attempt of the same payout recorded one first: the adapter must not send.
   */
  recordAttempt(signature: string, lastValidBlockHeight: bigint): Promise<void>;
}

export interface SettlementResult {
  /** The chain transaction id, or null for the off-chain ledger adapter. */
  txSignature: string | null;
}

export interface SettlementAdapter {
  readonly name: "ledger" | "solana";
  settle(payout: PayoutToSettle, hooks: SettlementHooks): Promise<SettlementResult>;
}

/** A failure retrying cannot fix (e.g. the transaction failed on chain): the payout is voided now. */
export class PermanentSettlementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentSettlementError";
  }
}

/** Default: off-chain. The ledger posting is the settlement; no transaction id exists, none is reported. */
export class LedgerSettlementAdapter implements SettlementAdapter {
  readonly name = "ledger" as const;
  async settle(): Promise<SettlementResult> {
    return { txSignature: null };
  }
}
