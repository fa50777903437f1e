// Payouts over the real app, settled by the real BullMQ worker on real Redis: minimum and balance
// checks, two-phase reservation under concurrency, idempotency, ownership, and a failed settlement
// (Solana RPC unreachable from here) voiding the payout and returning the funds.
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import request from "supertest";
import { Keypair, Transaction } from "@solana/web3.js";
import bs58 from "bs58";
import { account, Ledger } from "../src/ledger";
import { createPayoutService } from "../src/ledger/wiring";
import { createSettlementAdapter, settlementQueueOptions, settlePayout, SolanaSettlementAdapter, startSettlementWorker, type RunningSettlementWorker } from "../src/settlement";
import { createLogger } from "@twist/shared/logger";
import { expectEnvelope, newUser, newWallet, startHarness, type Harness, type User, balanceOf, expectLedgerConsistent, fund, moneyPost } from "./harness";
import { RecordedRpc } from "./solana-rpc";

const logger = createLogger("payouts-test", { level: "silent" });
const MIN = 1000n;
const RULES = { PAYOUT_MIN_AMOUNT: MIN.toString(), PAYOUT_FEE_FLAT: "10", PAYOUT_FEE_BPS: "100" };

function startWorker(h: Harness): RunningSettlementWorker {
  const seq = h.service.context.sequelize;
  const payouts = createPayoutService(h.config, seq, new Ledger(seq));
  return startSettlementWorker(settlementQueueOptions(h.config), payouts, createSettlementAdapter(h.config), logger);
}

/** Reads the payout until the worker has finished with it (bounded number of reads). */
async function settled(h: Harness, user: User, id: string): Promise<{ status: string; txSignature: string | null; failureReason: string | null }> {
  for (let i = 0; i < 200; i++) {
    const res = await request(h.app).get(`/api/v1/payouts/${id}`).set(user.auth);
    if (res.body.payout.status !== "pending") return res.body.payout;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`payout ${id} still pending`);
}

describe("payouts (ledger settlement adapter)", () => {
  let h: Harness;
  let worker: RunningSettlementWorker;
  before(async () => {
    h = await startHarness("payouts", RULES);
    worker = startWorker(h);
  });
  after(async () => {
    await worker.close();
    await h.close();
  });
  afterEach(async () => expectLedgerConsistent(h));

  const payout = (u: User, amount: string, key?: string) => moneyPost(h, u, "/api/v1/payouts", { amount }, key);

  it("shows the balance and the documented rules", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 5000n);
    const res = await request(h.app).get("/api/v1/payouts/balance").set(u.auth);
    expect(res.body).to.deep.equal({ available: "5000", pending: "0", rules: { minAmount: "1000", feeFlat: "10", feeBps: 100 } });
    expect((await request(h.app).get("/api/v1/payouts/balance")).status).to.equal(401);
  });

  it("below the minimum is 400, more than the balance is 409, bad amounts 400; nothing is reserved", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 5000n);
    const below = await payout(u, "999");
    expect(below.status).to.equal(400);
    expectEnvelope(below.body, "VALIDATION_ERROR");
    const over = await payout(u, "5001");
    expect(over.status).to.equal(409);
    expectEnvelope(over.body, "INSUFFICIENT_FUNDS");
    for (const amount of ["-1000", "1000.5", "abc", 2000]) expect((await payout(u, amount as string)).status).to.equal(400);
    const withDestination = await moneyPost(h, u, "/api/v1/payouts", { amount: "1000", destination: newWallet() });
    expect(withDestination.status).to.equal(400);
    expect(await balanceOf(h, account.available(u.wallet).key)).to.equal(5000n);
    expect(await balanceOf(h, account.payoutPending(u.wallet).key)).to.equal(0n);
    const list = await request(h.app).get("/api/v1/payouts").set(u.auth);
    expect(list.body.payouts).to.deep.equal([]);
  });

  it("reserves, then the worker posts it exactly once to the caller's own wallet (no transaction id off-chain)", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 5000n);
    const res = await payout(u, "2000");
    expect(res.status).to.equal(202);
    expect(res.body.payout).to.include({ amount: "2000", fee: "30", net: "1970", destination: u.wallet, adapter: "ledger", txSignature: null });
    const done = await settled(h, u, res.body.payout.id);
    expect(done).to.include({ status: "settled", txSignature: null });
    expect(await balanceOf(h, account.available(u.wallet).key)).to.equal(3000n);
    expect(await balanceOf(h, account.payoutPending(u.wallet).key)).to.equal(0n);
    // Settling again (a retried job) changes nothing.
    const seq = h.service.context.sequelize;
    const service = createPayoutService(h.config, seq, new Ledger(seq));
    expect(await settlePayout(service, createSettlementAdapter(h.config), res.body.payout.id, { number: 1, of: 1 }, logger)).to.equal("not-pending");
    expect(await service.void(res.body.payout.id, "late")).to.equal(false);
    expect(await balanceOf(h, account.available(u.wallet).key)).to.equal(3000n);
  });

  it("two deliveries of one payout's job at once (a stalled job re-run) send one chain transaction", async () => {
    const u = { wallet: Keypair.generate().publicKey.toBase58() }; // on the curve: it can own a token account
    await fund(h, u.wallet, 5000n);
    const seq = h.service.context.sequelize;
    const service = createPayoutService(h.config, seq, new Ledger(seq));
    // Reserved but not enqueued: the running worker leaves it alone (the sweep waits minutes).
    const created = await seq.transaction((t) => service.request(t, u.wallet, 2000n));
    // Both attempts read the payout before either records its signature, then get different blockhashes.
    let arrived = 0;
    let release!: () => void;
    const bothArrived = new Promise<void>((resolve) => (release = resolve));
    const gate = async () => {
      if (++arrived === 2) release();
      await bothArrived;
    };
    const payer = Keypair.generate();
    const mint = Keypair.generate().publicKey;
    const rpcs = [new RecordedRpc({ gate, blockhash: bs58.encode(new Uint8Array(32).fill(1)) }), new RecordedRpc({ gate, blockhash: bs58.encode(new Uint8Array(32).fill(2)) })];
    const outcomes = await Promise.all(
      rpcs.map((rpc) => settlePayout(service, new SolanaSettlementAdapter(rpc, payer, mint), created.id, { number: 1, of: 3 }, logger).catch(() => "retry")),
    );
    expect(rpcs.flatMap((r) => r.sent)).to.have.length(1);
    expect([...outcomes].sort()).to.deep.equal(["retry", "settled"]);
    const done = await service.get(u.wallet, created.id);
    expect(done.status).to.equal("settled");
    expect(done.txSignature).to.equal(bs58.encode(Transaction.from(rpcs.find((r) => r.sent.length)!.sent[0]!).signature!));
    expect(await balanceOf(h, account.payoutPending(u.wallet).key)).to.equal(0n);
  });

  it("concurrent payout requests reserve at most the balance", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 10_000n);
    const results = await Promise.all(Array.from({ length: 50 }, () => payout(u, "1500")));
    const accepted = results.filter((r) => r.status === 202).length;
    expect(results.filter((r) => r.status !== 202 && r.status !== 409).map((r) => r.status)).to.deep.equal([]);
    expect(accepted).to.equal(6);
    expect(await balanceOf(h, account.available(u.wallet).key)).to.equal(1000n);
    const list = await request(h.app).get("/api/v1/payouts").set(u.auth);
    expect(list.body.payouts).to.have.length(6);
    for (const p of list.body.payouts) await settled(h, u, p.id);
    expect(await balanceOf(h, account.payoutPending(u.wallet).key)).to.equal(0n);
  });

  it("the same Idempotency-Key replayed creates one payout", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 5000n);
    const key = `pay-${randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 8 }, () => payout(u, "1000", key)));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(8).fill(202));
    expect(new Set(answers.map((a) => a.body.payout.id)).size).to.equal(1);
    expect((await payout(u, "1001", key)).status).to.equal(409);
    const list = await request(h.app).get("/api/v1/payouts").set(u.auth);
    expect(list.body.payouts).to.have.length(1);
    await settled(h, u, answers[0]!.body.payout.id);
  });

  it("another user's payouts are 404 and never listed", async () => {
    const a = await newUser();
    const b = await newUser();
    await fund(h, a.wallet, 5000n);
    const res = await payout(a, "1000");
    const id = res.body.payout.id as string;
    const peek = await request(h.app).get(`/api/v1/payouts/${id}`).set(b.auth);
    expect(peek.status).to.equal(404);
    expectEnvelope(peek.body, "NOT_FOUND");
    expect((await request(h.app).get("/api/v1/payouts").set(b.auth)).body.payouts).to.deep.equal([]);
    expect((await request(h.app).get("/api/v1/payouts/not-a-uuid").set(a.auth)).status).to.equal(404);
    await settled(h, a, id);
  });

  it("lists own payouts newest first with a cursor", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 10_000n);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await payout(u, "1000")).body.payout.id as string);
    const p1 = await request(h.app).get("/api/v1/payouts").query({ limit: 2 }).set(u.auth);
    expect(p1.body.payouts.map((p: { id: string }) => p.id)).to.deep.equal([ids[2], ids[1]]);
    const p2 = await request(h.app).get("/api/v1/payouts").query({ limit: 2, cursor: p1.body.nextCursor }).set(u.auth);
    expect(p2.body.payouts.map((p: { id: string }) => p.id)).to.deep.equal([ids[0]]);
    expect(p2.body.nextCursor).to.equal(null);
    for (const id of ids) await settled(h, u, id);
  });
});

describe("payouts: failed settlement (Solana RPC unreachable)", () => {
  let h: Harness;
  let worker: RunningSettlementWorker;
  before(async () => {
    h = await startHarness("payouts_fail", {
      ...RULES,
      SETTLEMENT_ADAPTER: "solana",
      // Nothing listens there: the real @solana/web3.js Connection fails to reach the RPC.
      SOLANA_RPC_URL: "http://127.0.0.1:1",
      SOLANA_PAYER_SECRET_KEY: bs58.encode(Keypair.generate().secretKey),
      TWIST_MINT: Keypair.generate().publicKey.toBase58(),
      SETTLEMENT_ATTEMPTS: "3",
      SETTLEMENT_BACKOFF_MS: "10",
    });
    worker = startWorker(h);
  });
  after(async () => {
    await worker.close();
    await h.close();
  });
  afterEach(async () => expectLedgerConsistent(h));

  it("retries, then voids the payout and returns the funds; no transaction id is reported", async () => {
    const u = await newUser();
    await fund(h, u.wallet, 5000n);
    const res = await moneyPost(h, u, "/api/v1/payouts", { amount: "3000" });
    expect(res.status).to.equal(202);
    expect(await balanceOf(h, account.available(u.wallet).key)).to.equal(2000n);
    const done = await settled(h, u, res.body.payout.id);
    expect(done.status).to.equal("voided");
    expect(done.txSignature).to.equal(null);
    expect(done.failureReason).to.match(/blockhash|fetch/i);
    expect(await balanceOf(h, account.available(u.wallet).key)).to.equal(5000n);
    expect(await balanceOf(h, account.payoutPending(u.wallet).key)).to.equal(0n);
    const [rows] = await h.service.context.sequelize.query(`SELECT attempts FROM payouts WHERE id = '${res.body.payout.id}'`);
    expect((rows as { attempts: number }[])[0]!.attempts).to.equal(2);
  });
});
