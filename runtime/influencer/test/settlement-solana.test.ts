// The Solana settlement adapter, offline: the transaction it builds and signs is decoded and checked
// (instructions, accounts, amount, memo, signature). Sending needs an RPC endpoint this machine
// cannot reach; the RPC boundary is replaced by `RecordedRpc`, a test double of the JSON-RPC
// connection only (clearly not a chain), or pointed at a dead port to prove failures surface.
import { expect } from "chai";
import nacl from "tweetnacl";
import bs58 from "bs58";
import { Connection, Keypair, type PublicKey, Transaction } from "@solana/web3.js";
import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  createAssociatedTokenAccountIdempotentInstruction,
  createTransferCheckedInstruction,
  decodeTransferCheckedInstruction,
  getAssociatedTokenAddressSync,
} from "@solana/spl-token";
import { buildPayoutTransaction, MEMO_PROGRAM_ID, parsePayerSecretKey, PermanentSettlementError, SolanaSettlementAdapter, type PayoutToSettle } from "../src/settlement";
import { BLOCKHASH, RecordedRpc } from "./solana-rpc";

const keyView = (k: { pubkey: PublicKey; isSigner: boolean; isWritable: boolean }) => `${k.pubkey.toBase58()} signer=${k.isSigner} writable=${k.isWritable}`;

describe("Solana settlement adapter (offline)", () => {
  const payer = Keypair.generate();
  const mint = Keypair.generate().publicKey;
  const owner = Keypair.generate().publicKey;
  const payoutId = "8b0c3c36-6f3e-4f7a-9a53-7c7f4f0d2a11";

  it("builds and signs an SPL TransferChecked to the payout wallet's token account, with a memo", () => {
    const tx = buildPayoutTransaction({ payer, mint, decimals: 9, destinationOwner: owner, amount: 1_970_000_000n, payoutId, recentBlockhash: BLOCKHASH });
    const source = getAssociatedTokenAddressSync(mint, payer.publicKey);
    const destination = getAssociatedTokenAddressSync(mint, owner);
    expect(tx.feePayer!.equals(payer.publicKey)).to.equal(true);
    expect(tx.recentBlockhash).to.equal(BLOCKHASH);
    expect(tx.instructions).to.have.length(3);

    const [createAta, transfer, memo] = tx.instructions;
    // The reference library's own instruction, byte for byte (the adapter encodes it without that library).
    const reference = createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, destination, owner, mint);
    expect(createAta!.programId.equals(ASSOCIATED_TOKEN_PROGRAM_ID)).to.equal(true);
    expect([...createAta!.data]).to.deep.equal([...reference.data]);
    expect(createAta!.keys.map(keyView)).to.deep.equal(reference.keys.map(keyView));
    expect(transfer!.data.equals(createTransferCheckedInstruction(source, mint, destination, payer.publicKey, 1_970_000_000n, 9).data)).to.equal(true);

    expect(transfer!.programId.equals(TOKEN_PROGRAM_ID)).to.equal(true);
    const decoded = decodeTransferCheckedInstruction(transfer!);
    expect(decoded.data.amount).to.equal(1_970_000_000n);
    expect(decoded.data.decimals).to.equal(9);
    expect(decoded.keys.source.pubkey.equals(source)).to.equal(true);
    expect(decoded.keys.mint.pubkey.equals(mint)).to.equal(true);
    expect(decoded.keys.destination.pubkey.equals(destination)).to.equal(true);
    expect(decoded.keys.owner.pubkey.equals(payer.publicKey)).to.equal(true);
    expect(decoded.keys.owner.isSigner).to.equal(true);

    expect(memo!.programId.equals(MEMO_PROGRAM_ID)).to.equal(true);
    expect(Buffer.from(memo!.data).toString("utf8")).to.equal(`twist-payout:${payoutId}`);

    // The signature is the payer's ed25519 signature over the serialized message.
    expect(tx.verifySignatures()).to.equal(true);
    expect(nacl.sign.detached.verify(tx.serializeMessage(), tx.signature!, payer.publicKey.toBytes())).to.equal(true);
    const wire = Transaction.from(tx.serialize());
    expect(bs58.encode(wire.signature!)).to.equal(bs58.encode(tx.signature!));
  });

  it("refuses amounts that do not fit an SPL u64 amount", () => {
    expect(() => buildPayoutTransaction({ payer, mint, decimals: 9, destinationOwner: owner, amount: 1n << 64n, payoutId, recentBlockhash: BLOCKHASH })).to.throw(
      PermanentSettlementError,
    );
  });

  it("parses the payer key as base58 or a JSON byte array, and rejects other lengths", () => {
    expect(parsePayerSecretKey(bs58.encode(payer.secretKey)).publicKey.equals(payer.publicKey)).to.equal(true);
    expect(parsePayerSecretKey(JSON.stringify([...payer.secretKey])).publicKey.equals(payer.publicKey)).to.equal(true);
    expect(() => parsePayerSecretKey(bs58.encode(new Uint8Array(32)))).to.throw(/64 bytes/);
  });

  const payout = (over: Partial<PayoutToSettle> = {}): PayoutToSettle => ({
    id: payoutId,
    destination: owner.toBase58(),
    net: 5n,
    attemptSignature: null,
    attemptLastValidHeight: null,
    ...over,
  });

  it("records the signature before sending and reports the signature of the transaction it sent", async () => {
    const rpc = new RecordedRpc();
    const recorded: string[] = [];
    const adapter = new SolanaSettlementAdapter(rpc, payer, mint);
    const result = await adapter.settle(payout(), {
      recordAttempt: async (sig) => {
        recorded.push(sig);
        rpc.calls.push("recordAttempt");
      },
    });
    expect(rpc.calls).to.deep.equal(["getLatestBlockhash", "recordAttempt", "sendRawTransaction", "confirmTransaction"]);
    const sentSig = bs58.encode(Transaction.from(rpc.sent[0]!).signature!);
    expect(result.txSignature).to.equal(sentSig);
    expect(recorded).to.deep.equal([sentSig]);
  });

  it("a retry of the same payout whose earlier transaction landed reports it and sends nothing", async () => {
    const rpc = new RecordedRpc({ status: { err: null, confirmationStatus: "finalized" } });
    const result = await new SolanaSettlementAdapter(rpc, payer, mint).settle(payout({ attemptSignature: "earlierSig", attemptLastValidHeight: 900n }), {
      recordAttempt: async () => {},
    });
    expect(result.txSignature).to.equal("earlierSig");
    expect(rpc.calls).to.deep.equal(["getSignatureStatus"]);
  });

  it("a retry while the earlier transaction may still land waits (throws) instead of paying twice", async () => {
    const rpc = new RecordedRpc({ status: null, height: 950 });
    const err = await new SolanaSettlementAdapter(rpc, payer, mint)
      .settle(payout({ attemptSignature: "earlierSig", attemptLastValidHeight: 1000n }), { recordAttempt: async () => {} })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    expect(rpc.sent).to.have.length(0);
    // Once the blockhash expired without the transaction, a new one is built and sent.
    const later = new RecordedRpc({ status: null, height: 1001 });
    await new SolanaSettlementAdapter(later, payer, mint).settle(payout({ attemptSignature: "earlierSig", attemptLastValidHeight: 1000n }), {
      recordAttempt: async () => {},
    });
    expect(later.sent).to.have.length(1);
  });

  it("an on-chain failure is permanent; an unreachable RPC is a plain (retryable) error with nothing recorded", async () => {
    const failing = new RecordedRpc({ confirmErr: { InstructionError: [1, "InsufficientFunds"] } });
    const permanent = await new SolanaSettlementAdapter(failing, payer, mint).settle(payout(), { recordAttempt: async () => {} }).catch((e: unknown) => e);
    expect(permanent).to.be.instanceOf(PermanentSettlementError);

    const recorded: string[] = [];
    const dead = new Connection("http://127.0.0.1:1", "confirmed");
    const err = await new SolanaSettlementAdapter(dead, payer, mint).settle(payout(), { recordAttempt: async (s) => void recorded.push(s) }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    expect(err).to.not.be.instanceOf(PermanentSettlementError);
    expect(recorded).to.deep.equal([]);
  });
});
