// POST /internal/v1/rewards over the real app: signed delivery, once-only credits per vauId,
// per-item results, daily cap, and refusal of unsigned or malformed requests.
import { expect } from "chai";
import request from "supertest";
import { signedHeaders } from "@twist/shared/signed-request";
import { validateDeliveryResponse } from "@twist/shared/messages";
import { account } from "../src/ledger";
import { countRows, expectEnvelope, newWallet, startHarness, type Harness } from "./part1-helpers";
import { balanceOf, deliverRewards, expectLedgerConsistent, rewardMessage } from "./money-helpers";

const CAP = 5_000n;

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
    const res = await deliverRewards(h, { messages: [{ ...m, earned: "61" }, { ...m, walletAddress: newWallet() }] });
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
    expect(res.body.results.map((r: { status: string; code?: string }) => r.code ?? r.status)).to.deep.equal([
      "credited",
      "DAILY_CAP_EXCEEDED",
      "credited",
      "credited",
    ]);
    expect(await balanceOf(h, account.available(w).key)).to.equal(10_000n);
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
    for (const body of [{}, { messages: "x" }, { messages: [] }, [rewardMessage(w)], { messages: [rewardMessage(w)], extra: 1 }, { messages: Array.from({ length: 101 }, () => rewardMessage(w)) }]) {
      const res = await deliverRewards(h, body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).to.equal(400);
      expectEnvelope(res.body, "VALIDATION_ERROR");
    }
    expect(await balanceOf(h, account.available(w).key)).to.equal(0n);
  });
});
