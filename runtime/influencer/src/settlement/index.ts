// Chooses the settlement adapter from configuration (SETTLEMENT_ADAPTER, default `ledger`).
import { Connection, PublicKey } from "@solana/web3.js";
import type { InfluencerConfig } from "../config";
import { LedgerSettlementAdapter, type SettlementAdapter } from "./adapter";
import { parsePayerSecretKey, SolanaSettlementAdapter } from "./solana";

export function createSettlementAdapter(config: InfluencerConfig): SettlementAdapter {
  if (config.SETTLEMENT_ADAPTER !== "solana") return new LedgerSettlementAdapter();
  return new SolanaSettlementAdapter(new Connection(config.SOLANA_RPC_URL!, "confirmed"), parsePayerSecretKey(config.SOLANA_PAYER_SECRET_KEY!), new PublicKey(config.TWIST_MINT!));
}

export function settlementQueueOptions(config: InfluencerConfig) {
  return {
    redisUrl: config.REDIS_URL,
    prefix: `${config.REDIS_PREFIX}bull`,
    name: config.SETTLEMENT_QUEUE,
    attempts: config.SETTLEMENT_ATTEMPTS,
    backoffMs: config.SETTLEMENT_BACKOFF_MS,
    sweepEverySeconds: config.SETTLEMENT_SWEEP_EVERY_SECONDS,
    staleAfterSeconds: config.SETTLEMENT_STALE_AFTER_SECONDS,
    lockSeconds: config.SETTLEMENT_LOCK_SECONDS,
  };
}

export * from "./adapter";
export { SettlementQueue, settlePayout, startSettlementWorker, type RunningSettlementWorker, type SettlementOutcome } from "./queue";
export { buildPayoutTransaction, parsePayerSecretKey, SolanaSettlementAdapter, MEMO_PROGRAM_ID, type SolanaRpc } from "./solana";
