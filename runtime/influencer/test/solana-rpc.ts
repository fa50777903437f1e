// Test double for the Solana JSON-RPC boundary (no chain is reachable from here): answers from a
// script and records the calls. Only the RPC connection is replaced; the adapter behind it is real.
import bs58 from "bs58";
import { Transaction } from "@solana/web3.js";
import type { SolanaRpc } from "../src/settlement";

export const BLOCKHASH = bs58.encode(new Uint8Array(32).fill(7));

export interface RpcScript {
  status?: { err: unknown; confirmationStatus: string } | null;
  height?: number;
  confirmErr?: unknown;
  /** The blockhash getLatestBlockhash answers (default BLOCKHASH). */
  blockhash?: string;
  /** Awaited before getLatestBlockhash answers (to line up concurrent attempts). */
  gate?: () => Promise<void>;
}

export class RecordedRpc implements SolanaRpc {
  calls: string[] = [];
  sent: Buffer[] = [];
  constructor(private readonly script: RpcScript = {}) {}
  getLatestBlockhash = (async () => {
    this.calls.push("getLatestBlockhash");
    await this.script.gate?.();
    return { blockhash: this.script.blockhash ?? BLOCKHASH, lastValidBlockHeight: 1000 };
  }) as SolanaRpc["getLatestBlockhash"];
  sendRawTransaction = (async (raw: Buffer | Uint8Array) => {
    this.calls.push("sendRawTransaction");
    this.sent.push(Buffer.from(raw));
    return bs58.encode(Transaction.from(Buffer.from(raw)).signature!);
  }) as SolanaRpc["sendRawTransaction"];
  confirmTransaction = (async () => {
    this.calls.push("confirmTransaction");
    return { context: { slot: 1 }, value: { err: this.script.confirmErr ?? null } };
  }) as unknown as SolanaRpc["confirmTransaction"];
  getSignatureStatus = (async () => {
    this.calls.push("getSignatureStatus");
    return { context: { slot: 1 }, value: this.script.status ?? null };
  }) as unknown as SolanaRpc["getSignatureStatus"];
  getBlockHeight = (async () => {
    this.calls.push("getBlockHeight");
    return this.script.height ?? 0;
  }) as SolanaRpc["getBlockHeight"];
}
