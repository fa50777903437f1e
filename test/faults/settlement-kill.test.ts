// kill -9 of the settlement worker in the middle of Solana payouts, once right before the chain
// send (the transaction signed and recorded, never arrived) and once right after it (landed, not
// yet confirmed to the worker, payout not posted). The restarted worker resumes each payout by its
// id: every payout ends settled exactly once, and no payout is ever sent twice. The Solana RPC is
// a test double (solana-rpc-server.ts); the worker bundle and its web3.js client are real.
import { expect } from "chai";
import { Keypair } from "@solana/web3.js";
import bs58 from "bs58";
import { createTestDatabase, type TestDatabase } from "../support/postgres";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../support/redis";
import { balanceOf, Client, idempotencyKey, ledgerViolations, report, scale, sleep, startBackend, TWIST, type Backend, type Wallet } from "./harness";
import { SolanaRpcDouble } from "./solana-rpc-server";

describe("fault: kill -9 of the settlement worker around the chain send", function () {
  this.timeout(300_000);
  let db: TestDatabase;
  let backend: Backend;
  const rpc = new SolanaRpcDouble();
  const prefix = testRedisPrefix("fault-settle");

  before(async () => {
    db = await createTestDatabase("fault_settle");
    await rpc.start();
    backend = await startBackend({
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      redisPrefix: prefix,
      env: {
        SETTLEMENT_ADAPTER: "solana",
        SOLANA_RPC_URL: rpc.url,
        SOLANA_PAYER_SECRET_KEY: bs58.encode(Keypair.generate().secretKey),
        TWIST_MINT: Keypair.generate().publicKey.toBase58(),
        // The dead worker's jobs are taken up again once BullMQ's lock on them expires.
        SETTLEMENT_LOCK_SECONDS: "3",
      },
    });
  });
  after(async () => {
    await backend?.stop();
    await rpc.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  for (const moment of ["before", "after"] as const) {
    it(`killed ${moment} the send: each payout settled exactly once, none sent twice`, async () => {
      const client = new Client(backend.urls.influencer, backend.keys);
      const count = scale(2, 4); // at most the worker's concurrency, so all are in flight at the kill
      rpc.hold = moment === "before" ? "send" : "confirm";
      rpc.held.length = 0;
      const landedBefore = rpc.landed.length;
      const requests: { wallet: Wallet; id: string; amount: bigint }[] = [];
      for (let i = 0; i < count; i++) {
        const wallet = await client.wallet(Keypair.generate().publicKey.toBase58());
        await client.fund(wallet, 100n * TWIST);
        const amount = BigInt(i + 2) * TWIST;
        const { answer } = await client.untilDone(() =>
          client.call("POST", "/api/v1/payouts", { headers: { ...wallet.auth, "Idempotency-Key": idempotencyKey() }, body: { amount: amount.toString() } }),
        );
        requests.push({ wallet, id: answer.body.payout.id, amount });
      }
      const deadline = Date.now() + 60_000;
      while (rpc.held.length < count && Date.now() < deadline) await sleep(50);
      expect(rpc.held.length, "payouts in flight at the kill").to.equal(count);
      await backend.kill("settlement");
      const heldSignatures = [...rpc.held];
      rpc.hold = "none";
      // Before: the held sends never landed; let their blockhashes expire so a new send is safe.
      if (moment === "before") rpc.height += 2000;
      await backend.restart("settlement");

      let doubled = 0;
      let lost = 0;
      for (const r of requests) {
        const { answer } = await client.untilDone(
          () => client.call("GET", `/api/v1/payouts/${r.id}`, { headers: r.wallet.auth }),
          (a) => a.status === 200 && a.body.payout.status !== "pending",
          120_000,
        );
        const payout = answer.body.payout as { status: string; txSignature: string | null };
        const sends = rpc.landed.filter((t) => t.memo === `twist-payout:${r.id}`);
        if (sends.length > 1) doubled += sends.length - 1;
        if (payout.status !== "settled") lost++;
        expect(payout.status, r.id).to.equal("settled");
        expect(sends, `transactions sent for ${r.id}`).to.have.length(1);
        expect(payout.txSignature).to.equal(sends[0]!.signature);
        // Before: a new transaction replaced the one that never arrived; after: the landed one is kept.
        expect(heldSignatures.includes(payout.txSignature!)).to.equal(moment === "after");
        const balance = await balanceOf(client, r.wallet);
        expect(balance.total, "the payout left the balance once").to.equal(100n * TWIST - r.amount);
      }
      expect(rpc.landed.length - landedBefore).to.equal(count);
      expect(await ledgerViolations(db.url)).to.deep.equal([]);
      report({
        fault: `kill -9 settlement worker ${moment} the chain send`,
        detail: `${count} Solana payouts in flight; each settled once with ${moment === "before" ? "a fresh transaction (the recorded one never landed, its blockhash expired)" : "the transaction that had landed (looked up, not resent)"}`,
        lost,
        doubled,
      });
    });
  }
});
