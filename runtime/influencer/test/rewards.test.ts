// POST /internal/v1/rewards over the real app: signed delivery, once-only credits per vauId,
// per-item results, daily cap, and refusal of unsigned or malformed requests.
import { expect } from "chai";
import request from "supertest";
import { signedHeaders } from "@twist/shared/signed-request";
import { validateDeliveryResponse } from "@twist/shared/messages";
import { createLogger } from "@twist/shared/logger";
import { account, Ledger, SYSTEM_SHARDS } from "../src/ledger";
import { RewardCredits } from "../src/rewards/credit";
import { countRows, expectEnvelope, newWallet, startHarness, type Harness, balanceOf, deliverRewards, expectLedgerConsistent, rewardMessage } from "./harness";

const CAP = 5_000n;

/** The SQL statements the app's Sequelize sends while `run` runs. */
async function statementsDuring(h: Harness, run: () => Promise<void>): Promise<number> {
  const seq = h.service.context.sequelize;
  const original = seq.query.bind(seq);
  let statements = 0;
  seq.query = ((...args: Parameters<typeof seq.query>) => {
    statements++;
    return original(...args);
  }) as typeof seq.query;
  try {
    await run();
  } finally {
    seq.query = original;
  }
  return statements;
}

describe("reward credits: POST /internal/v1/rewards", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness("rewards", { REWARD_DAILY_CAP: CAP.toString() });
  });
  after(async () => h.close());
  afterEach(async () => expectLedgerConsistent(h));

  it("credits each message to its wallet and answers one result per message, in order", async () => {
    const a = newWallet();
    const b = newWallet();
    const messages = [rewardMessage(a, { earned: "100" }), rewardMessage(b, { earned: "250" }), rewardMessage(a, { earned: "7" })];
    const res = await deliverRewards(h, { messages });
    expect(res.status).to.equal(200);
    expect(validateDeliveryResponse(res.body, 3).ok).to.equal(true);
    expect(res.body.results).to.deep.equal(messages.map((m) => ({ id: m.id, status: "credited" })));
    expect(await balanceOf(h, account.available(a).key)).to.equal(107n);
    expect(await balanceOf(h, account.available(b).key)).to.equal(250n);
    // The recipient becomes a user on first credit.
    expect(await countRows(h, "users", `wallet_address = '${a}'`)).to.equal(1);
  });

  it("the same batch delivered twice credits once (second answer: duplicate)", async () => {
    const w = newWallet();
    const messages = [rewardMessage(w, { earned: "300" }), rewardMessage(w, { earned: "200" })];
    const first = await deliverRewards(h, { messages });
    const second = await deliverRewards(h, { messages });
    expect(first.body.results.map((r: { status: string }) => r.status)).to.deep.equal(["credited", "credited"]);
    expect(second.body.results.map((r: { status: string }) => r.status)).to.deep.equal(["duplicate", "duplicate"]);
    expect(await balanceOf(h, account.available(w).key)).to.equal(500n);
  });

  it("the same vauId twice in one batch is credited once", async () => {
    const w = newWallet();
    const m = rewardMessage(w, { earned: "40" });
    const res = await deliverRewards(h, { messages: [m, m] });
    expect(res.body.results.map((r: { status: string }) => r.status)).to.deep.equal(["credited", "duplicate"]);
    expect(await balanceOf(h, account.available(w).key)).to.equal(40n);
  });

  it("concurrent deliveries of the same batch credit once", async () => {
    const w = newWallet();
    const messages = Array.from({ length: 5 }, () => rewardMessage(w, { earned: "10" }));
    const answers = await Promise.all(Array.from({ length: 6 }, () => deliverRewards(h, { messages })));
    const statuses = answers.flatMap((r) => r.body.results.map((x: { status: string }) => x.status));
    expect(statuses.filter((s) => s === "credited")).to.have.length(5);
    expect(statuses.filter((s) => s !== "credited" && s !== "duplicate")).to.deep.equal([]);
    expect(await balanceOf(h, account.available(w).key)).to.equal(50n);
  });

  it("a malformed message is rejected on its own and does not block the rest", async () => {
    const w = newWallet();
    const good1 = rewardMessage(w, { earned: "11" });
    const good2 = rewardMessage(w, { earned: "22" });
    const bad = [
      { ...rewardMessage(w), earned: "-5" },
      { ...rewardMessage(w), earned: "1.5" },
      { ...rewardMessage(w), walletAddress: "not-a-wallet" },
      { ...rewardMessage(w), v: 2 },
      "just a string",
      null,
    ];
    const res = await deliverRewards(h, { messages: [good1, ...bad, good2] });
    expect(res.status).to.equal(200);
    const results = res.body.results as { id: string | null; status: string; code?: string }[];
    expect(results).to.have.length(8);
    expect(results[0]).to.deep.equal({ id: good1.id, status: "credited" });
    expect(results[7]).to.deep.equal({ id: good2.id, status: "credited" });
    for (const r of results.slice(1, 7)) {
      expect(r.status).to.equal("rejected");
      expect(r.code).to.equal("INVALID_MESSAGE");
    }
    expect(results[1]!.id).to.equal((bad[0] as { id: string }).id);
    expect(results[5]!.id).to.equal(null);
    expect(await balanceOf(h, account.available(w).key)).to.equal(33n);
  });

  it("a vauId already credited with another amount or wallet is rejected as CONFLICT", async () => {
    const w = newWallet();
    const m = rewardMessage(w, { earned: "60" });
    await deliverRewards(h, { messages: [m] });
    const res = await deliverRewards(h, {
      messages: [
        { ...m, earned: "61" },
        { ...m, walletAddress: newWallet() },
      ],
    });
    expect(res.body.results.map((r: { status: string; code: string }) => `${r.status}:${r.code}`)).to.deep.equal(["rejected:CONFLICT", "rejected:CONFLICT"]);
    expect(await balanceOf(h, account.available(w).key)).to.equal(60n);
  });

  it("enforces the daily cap per wallet and UTC day of receivedAt", async () => {
    const w = newWallet();
    const day1 = "2026-03-01T10:00:00.000Z";
    const day2 = "2026-03-02T00:00:01.000Z";
    const res = await deliverRewards(h, {
      messages: [
        rewardMessage(w, { earned: "4000", receivedAt: day1 }),
        rewardMessage(w, { earned: "1001", receivedAt: day1 }),
        rewardMessage(w, { earned: "1000", receivedAt: day1 }),
        rewardMessage(w, { earned: "5000", receivedAt: day2 }),
      ],
    });
    expect(res.body.results.map((r: { status: string; code?: string }) => r.code ?? r.status)).to.deep.equal(["credited", "DAILY_CAP_EXCEEDED", "credited", "credited"]);
    expect(await balanceOf(h, account.available(w).key)).to.equal(10_000n);
  });

  it("credits a delivery of 100 messages in one transaction with as many statements as a delivery of 1", async () => {
    const counted = async (messages: unknown[]) => {
      let res!: Awaited<ReturnType<typeof deliverRewards>>;
      const statements = await statementsDuring(h, async () => {
        res = await deliverRewards(h, { messages });
      });
      return { res, statements };
    };
    const wallets = Array.from({ length: 20 }, () => newWallet());
    const hundred = Array.from({ length: 100 }, (_, i) => rewardMessage(wallets[i % 20]!, { earned: "3" }));
    const one = await counted([rewardMessage(newWallet(), { earned: "3" })]);
    const many = await counted(hundred);
    expect(many.res.body.results.filter((r: { status: string }) => r.status === "credited")).to.have.length(100);
    expect(many.statements).to.equal(one.statements);
    for (const w of wallets) expect(await balanceOf(h, account.available(w).key)).to.equal(15n);
  });

  it("a returning wallet's credit skips creating its user and account: two statements fewer than a new wallet's", async () => {
    const seq = h.service.context.sequelize;
    const credits = new RewardCredits(new Ledger(seq), { dailyCap: CAP }, createLogger("credits", { level: "silent" }));
    const w = newWallet();
    // One delivery per system:rewards shard first, so every shard's account is known as well.
    for (let i = 0; i < SYSTEM_SHARDS; i++) expect((await credits.deliver([rewardMessage(w, { earned: "1" })]))[0]!.status).to.equal("credited");
    const statementsOf = (wallet: string) =>
      statementsDuring(h, async () => {
        expect((await credits.deliver([rewardMessage(wallet, { earned: "1" })]))[0]!.status).to.equal("credited");
      });
    const fresh = newWallet();
    expect(await statementsOf(w)).to.equal((await statementsOf(fresh)) - 2);
    expect(await balanceOf(h, account.available(w).key)).to.equal(BigInt(SYSTEM_SHARDS + 1));
    expect(await balanceOf(h, account.available(fresh).key)).to.equal(1n);
  });

  it("a remembered wallet whose account is gone (the database restored under the API) is credited again, its account created anew", async () => {
    const restored = await startHarness("rewards-restored", { REWARD_DAILY_CAP: CAP.toString() });
    try {
      const w = newWallet();
      const first = await deliverRewards(restored, { messages: [rewardMessage(w, { earned: "70" })] });
      expect(first.body.results[0].status).to.equal("credited");
      // A restore of a backup taken before that credit: the wallet's user and account are gone.
      await restored.service.context.sequelize.query("TRUNCATE ledger_transfers, ledger_accounts, users, reward_daily_totals, wallet_events, wallet_event_heads, notifications CASCADE");
      const again = await deliverRewards(restored, { messages: [rewardMessage(w, { earned: "30" })] });
      expect(again.body.results[0].status).to.equal("credited");
      expect(await balanceOf(restored, account.available(w).key)).to.equal(30n);
      expect(await countRows(restored, "users", `wallet_address = '${w}'`)).to.equal(1);
      await expectLedgerConsistent(restored);
    } finally {
      await restored.close();
    }
  });

  it("the cap holds across concurrent deliveries to one wallet, and only the capped messages are refused", async () => {
    const w = newWallet();
    const other = newWallet();
    // 8 deliveries of 5 x 200 for w (8,000 in all against a cap of 5,000), each with one message for another wallet.
    const deliveries = Array.from({ length: 8 }, () => [...Array.from({ length: 5 }, () => rewardMessage(w, { earned: "200" })), rewardMessage(other, { earned: "1" })]);
    const answers = await Promise.all(deliveries.map((messages) => deliverRewards(h, { messages })));
    const statuses = answers.flatMap((r) => r.body.results.map((x: { status: string; code?: string }) => x.code ?? x.status));
    expect(statuses.filter((s) => s === "credited")).to.have.length(25 + 8);
    expect(statuses.filter((s) => s === "DAILY_CAP_EXCEEDED")).to.have.length(15);
    expect(await balanceOf(h, account.available(w).key)).to.equal(CAP);
    expect(await balanceOf(h, account.available(other).key)).to.equal(8n);
  });

  it("deliveries that arrive together are credited together, in fewer transactions, each answered for its own messages", async () => {
    const seq = h.service.context.sequelize;
    const credits = new RewardCredits(new Ledger(seq), { dailyCap: CAP }, createLogger("credits", { level: "silent" }));
    const original = seq.transaction.bind(seq);
    let transactions = 0;
    seq.transaction = ((...args: unknown[]) => {
      transactions++;
      return (original as (...a: unknown[]) => unknown)(...args);
    }) as typeof seq.transaction;
    const wallets = Array.from({ length: 12 }, () => newWallet());
    const shared = rewardMessage(newWallet(), { earned: "9" });
    // 12 deliveries of 10 for one wallet each; the ten that wait also carry one same message, which
    // their shared transaction credits once (the later copies: duplicates).
    const deliveries = wallets.map((w, i) => [...Array.from({ length: 10 }, () => rewardMessage(w, { earned: "2" })), ...(i >= 2 ? [shared] : [])]);
    try {
      // Handed over in one tick: two start at once (CREDIT_WRITERS), the ten waiting go together.
      const answers = await Promise.all(deliveries.map((messages) => credits.deliver(messages)));
      answers.forEach((results, i) => {
        expect(results.map((r) => r.id)).to.deep.equal(deliveries[i]!.map((m) => m.id));
        expect(results.slice(0, 10).every((r) => r.status === "credited")).to.equal(true);
      });
      expect(answers.slice(2).map((results) => results[10]!.status)).to.deep.equal(["credited", ...Array(9).fill("duplicate")]);
    } finally {
      seq.transaction = original;
    }
    expect(transactions).to.equal(3);
    for (const w of wallets) expect(await balanceOf(h, account.available(w).key)).to.equal(20n);
    expect(await balanceOf(h, account.available(shared.walletAddress).key)).to.equal(9n);
  });

  it("a database error that one message causes fails that message alone; its retry credits it once the cause is gone", async () => {
    const seq = h.service.context.sequelize;
    const w = newWallet();
    const messages = Array.from({ length: 7 }, () => rewardMessage(w, { earned: "5" }));
    const poison = messages[4]!;
    // A real Postgres error for one row (a trigger), the way a bad row or a constraint would fail.
    await seq.query(`CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.reference = '${poison.id}' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$`);
    await seq.query(`CREATE TRIGGER test_poison BEFORE INSERT ON ledger_transfers FOR EACH ROW EXECUTE FUNCTION test_poison()`);
    try {
      const res = await deliverRewards(h, { messages });
      expect(res.status).to.equal(200);
      expect(res.body.results.map((r: { status: string }) => r.status)).to.deep.equal(["credited", "credited", "credited", "credited", "failed", "credited", "credited"]);
      expect(res.body.results[4]).to.include({ id: poison.id, code: "UNAVAILABLE" });
      expect(await balanceOf(h, account.available(w).key)).to.equal(30n);
    } finally {
      await seq.query(`DROP TRIGGER test_poison ON ledger_transfers; DROP FUNCTION test_poison()`);
    }
    // The edge retries the whole delivery: the six already credited are duplicates, the failed one is credited.
    const retry = await deliverRewards(h, { messages });
    expect(retry.body.results.map((r: { status: string }) => r.status)).to.deep.equal(["duplicate", "duplicate", "duplicate", "duplicate", "credited", "duplicate", "duplicate"]);
    expect(await balanceOf(h, account.available(w).key)).to.equal(35n);
  });

  it("with Postgres down every valid message answers failed and invalid ones are still rejected", async () => {
    const down = await startHarness("rewards-down", { DATABASE_URL: "postgres://postgres@127.0.0.1:1/none" });
    try {
      const w = newWallet();
      const res = await deliverRewards(down, { messages: [rewardMessage(w), { ...rewardMessage(w), earned: "x" }, rewardMessage(w)] });
      expect(res.status).to.equal(200);
      expect(res.body.results.map((r: { status: string; code?: string }) => `${r.status}:${r.code}`)).to.deep.equal([
        "failed:UNAVAILABLE",
        "rejected:INVALID_MESSAGE",
        "failed:UNAVAILABLE",
      ]);
    } finally {
      await down.close();
    }
  });

  it("a bad or missing signature is 401 and credits nothing", async () => {
    const w = newWallet();
    const body = { messages: [rewardMessage(w)] };
    const wrongKey = await deliverRewards(h, body, "some-other-signing-key-0000000001");
    expect(wrongKey.status).to.equal(401);
    expectEnvelope(wrongKey.body, "UNAUTHORIZED");
    const unsigned = await request(h.app).post("/internal/v1/rewards").send(body);
    expect(unsigned.status).to.equal(401);
    // Signed for another body: the bytes sent differ from the bytes signed.
    const headers = await signedHeaders("POST", "/internal/v1/rewards", JSON.stringify({ messages: [] }), "service-test-signing-key-000000001");
    const tampered = await request(h.app).post("/internal/v1/rewards").set(headers).set("Content-Type", "application/json").send(JSON.stringify(body));
    expect(tampered.status).to.equal(401);
    expect(await balanceOf(h, account.available(w).key)).to.equal(0n);
  });

  it("a body that is not {messages: [...]} (1-100 items) is 400", async () => {
    const w = newWallet();
    for (const body of [
      {},
      { messages: "x" },
      { messages: [] },
      [rewardMessage(w)],
      { messages: [rewardMessage(w)], extra: 1 },
      { messages: Array.from({ length: 101 }, () => rewardMessage(w)) },
    ]) {
      const res = await deliverRewards(h, body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).to.equal(400);
      expectEnvelope(res.body, "VALIDATION_ERROR");
    }
    expect(await balanceOf(h, account.available(w).key)).to.equal(0n);
  });
});
