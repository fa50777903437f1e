// Solana settlement: an SPL token TransferChecked of the payout's net amount from the treasury
// (payer) token account to the destination wallet's associated token account (created idempotently),
// with a memo naming the payout. Retried by payout id: the signed transaction's signature is stored
// before sending, and a retry first asks the RPC about it, so one payout never pays twice.
import { Keypair, PublicKey, Transaction, TransactionInstruction, type Connection } from "@solana/web3.js";
import bs58 from "bs58";
import { PermanentSettlementError, type PayoutToSettle, type SettlementAdapter, type SettlementHooks, type SettlementResult } from "./adapter";
import { associatedTokenAddress, createAssociatedTokenAccountIdempotent, transferChecked } from "./spl-token";

export const MEMO_PROGRAM_ID = new PublicKey("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
const U64_MAX = (1n << 64n) - 1n;

/** The part of @solana/web3.js Connection the adapter uses (the real Connection satisfies it). */
export type SolanaRpc = Pick<Connection, "getLatestBlockhash" | "sendRawTransaction" | "confirmTransaction" | "getSignatureStatus" | "getBlockHeight">;

export interface PayoutTransactionInput {
  payer: Keypair;
  mint: PublicKey;
  decimals: number;
  destinationOwner: PublicKey;
  amount: bigint;
  payoutId: string;
  recentBlockhash: string;
}

/** Builds and signs the payout transaction (offline: no RPC involved). */
export function buildPayoutTransaction(input: PayoutTransactionInput): Transaction {
  if (input.amount <= 0n || input.amount > U64_MAX) throw new PermanentSettlementError("payout amount does not fit an SPL token amount");
  const source = associatedTokenAddress(input.mint, input.payer.publicKey);
  const destination = associatedTokenAddress(input.mint, input.destinationOwner);
  const tx = new Transaction({ feePayer: input.payer.publicKey, recentBlockhash: input.recentBlockhash });
  tx.add(
    createAssociatedTokenAccountIdempotent(input.payer.publicKey, destination, input.destinationOwner, input.mint),
    transferChecked(source, input.mint, destination, input.payer.publicKey, input.amount, input.decimals),
    new TransactionInstruction({ programId: MEMO_PROGRAM_ID, keys: [], data: Buffer.from(`twist-payout:${input.payoutId}`, "utf8") }),
  );
  tx.sign(input.payer);
  return tx;
}

/** Parses SOLANA_PAYER_SECRET_KEY: base58 of the 64-byte secret key, or a JSON byte array (solana-keygen file format). */
export function parsePayerSecretKey(text: string): Keypair {
  const trimmed = text.trim();
  const bytes = trimmed.startsWith("[") ? Uint8Array.from(JSON.parse(trimmed) as number[]) : bs58.decode(trimmed);
  if (bytes.length !== 64) throw new Error("SOLANA_PAYER_SECRET_KEY must decode to 64 bytes");
  return Keypair.fromSecretKey(bytes);
}

export class SolanaSettlementAdapter implements SettlementAdapter {
  readonly name = "solana" as const;
  constructor(
    private readonly rpc: SolanaRpc,
    private readonly payer: Keypair,
    private readonly mint: PublicKey,
    private readonly decimals = 9,
  ) {}

  async settle(payout: PayoutToSettle, hooks: SettlementHooks): Promise<SettlementResult> {
    if (payout.attemptSignature) {
      const landed = await this.previousAttempt(payout.attemptSignature, payout.attemptLastValidHeight);
      if (landed) return { txSignature: payout.attemptSignature };
    }
    const { blockhash, lastValidBlockHeight } = await this.rpc.getLatestBlockhash("confirmed");
    const tx = buildPayoutTransaction({
      payer: this.payer,
      mint: this.mint,
      decimals: this.decimals,
      destinationOwner: new PublicKey(payout.destination),
      amount: payout.net,
      payoutId: payout.id,
      recentBlockhash: blockhash,
    });
    const signature = bs58.encode(tx.signature!);
    await hooks.recordAttempt(signature, BigInt(lastValidBlockHeight));
    await this.rpc.sendRawTransaction(tx.serialize(), { skipPreflight: false, maxRetries: 3 });
    const confirmation = await this.rpc.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, "confirmed");
    if (confirmation.value.err) throw new PermanentSettlementError(`transaction failed on chain: ${JSON.stringify(confirmation.value.err)}`);
    return { txSignature: signature };
  }

  /**
   * True when the earlier transaction landed. Throws (retry later) while it may still land; returns
   * false once its blockhash expired without it, so a new transaction is safe.
   */
  private async previousAttempt(signature: string, lastValidHeight: bigint | null): Promise<boolean> {
    const status = await this.rpc.getSignatureStatus(signature, { searchTransactionHistory: true });
    const value = status.value;
    if (value) {
      if (value.err) throw new PermanentSettlementError(`earlier transaction failed on chain: ${JSON.stringify(value.err)}`);
      if (value.confirmationStatus === "confirmed" || value.confirmationStatus === "finalized") return true;
      throw new Error("earlier transaction is not confirmed yet");
    }
    const height = BigInt(await this.rpc.getBlockHeight("confirmed"));
    if (lastValidHeight !== null && height <= lastValidHeight) throw new Error("earlier transaction may still land; retry later");
    return false;
  }
}
