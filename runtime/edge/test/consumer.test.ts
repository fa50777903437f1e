// The queue consumer in workerd against a node:http server playing the backend: per-message acks
// from the backend's answer, retries with backoff, the dead-letter queue. The instance runs with
// ENVIRONMENT=development, which is also where the VAU signature may be skipped.
import { expect } from "chai";
import { startEdge, type RunningEdge } from "../local/miniflare";
import { BackendDouble, dlqObserverWorker, errorOf, JWT_KEYS, send, SERVICE_KEY, tokenFor, newWallet, vauBody, waitFor } from "./support";

const MAX_RETRIES = 2;

describe("edge queue consumer (workerd)", () => {
  let edge: RunningEdge;
  const backend = new BackendDouble();
  let token: string;

  before(async () => {
    await backend.start();
    backend.decide = (m, seenBefore) => {
      switch (m.siteId) {
        case "flaky.example":
          return seenBefore === 0 ? "failed" : "credited";
        case "fail.example":
          return "failed";
        case "reject.example":
          return "rejected";
        case "dup.example":
          return "duplicate";
        default:
          return "credited";
      }
    };
    edge = await startEdge({
      vars: { JWT_KEYS, SERVICE_SIGNING_KEYS: SERVICE_KEY, ENVIRONMENT: "development", BACKEND_URL: backend.url, RETRY_BASE_DELAY_SECONDS: "1" },
      consumerOverrides: { rewards: { maxBatchTimeoutSeconds: 0, maxRetries: MAX_RETRIES } },
      extraWorkers: [dlqObserverWorker(backend.url)],
    });
    token = await tokenFor(newWallet());
  });
  after(async () => {
    await edge?.stop();
    await backend.stop();
  });

  async function ingest(siteId: string): Promise<string> {
    const res = await send(edge, vauBody({ siteId }), { token, key: null });
    expect(res.status).to.equal(200);
    return ((await res.json()) as { vauId: string }).vauId;
  }

  const inDlq = (id: string) => backend.deadLetters.filter((m) => m.id === id).length;

  it("skips the signature in development but still requires the token", async () => {
    const unsigned = await send(edge, vauBody(), { token, key: null });
    expect(unsigned.status).to.equal(200);
    const anonymous = await send(edge, vauBody(), { token: null, key: null });
    expect(anonymous.status).to.equal(401);
    expect((await errorOf(anonymous)).code).to.equal("UNAUTHORIZED");
  });

  it("retries a batch the backend answered with 503, then acks it", async () => {
    backend.failWholeRequests.push(503);
    await ingest("credit.example");
    const refused = await waitFor("a delivery answered 503", () => backend.deliveries.find((d) => d.status === 503));
    const ids = refused.messages.map((m) => String(m.id));
    await waitFor("every refused message delivered again", () => (ids.every((id) => backend.timesDelivered(id) >= 2) ? true : undefined));
    const marker = await ingest("fail.example");
    await waitFor("a later retry cycle", () => (backend.timesDelivered(marker) >= 2 ? true : undefined));
    for (const id of ids) {
      expect(backend.timesDelivered(id), "one refused delivery, one credited").to.equal(2);
      expect(inDlq(id)).to.equal(0);
    }
  });

  it("acks credited and duplicate items once, signing every delivery with the service key", async () => {
    const credited = await ingest("credit.example");
    const duplicate = await ingest("dup.example");
    await waitFor("both delivered", () => (backend.timesDelivered(credited) && backend.timesDelivered(duplicate) ? true : undefined));
    // A later message through the same queue: by the time it arrives, an unacked one would have been redelivered.
    const later = await ingest("fail.example");
    await waitFor("the later message's retry", () => (backend.timesDelivered(later) >= 2 ? true : undefined));
    expect(backend.timesDelivered(credited)).to.equal(1);
    expect(backend.timesDelivered(duplicate)).to.equal(1);
    expect(backend.deliveries.every((d) => d.signatureOk)).to.equal(true);
  });

  it("retries an item the backend failed and acks it when it is credited", async () => {
    const id = await ingest("flaky.example");
    await waitFor("the retry", () => (backend.timesDelivered(id) >= 2 ? true : undefined));
    const marker = await ingest("fail.example");
    await waitFor("a later retry cycle", () => (backend.timesDelivered(marker) >= 2 ? true : undefined));
    expect(backend.timesDelivered(id)).to.equal(2);
    expect(inDlq(id)).to.equal(0);
  });

  it("moves an item that keeps failing to the dead-letter queue after maxRetries", async function () {
    this.timeout(30_000);
    const id = await ingest("fail.example");
    const parked = await waitFor("the message in the DLQ", () => backend.deadLetters.find((m) => m.id === id), 20_000);
    expect(backend.timesDelivered(id)).to.equal(MAX_RETRIES + 1);
    expect(parked).to.include({ v: 1, type: "vau.reward", siteId: "fail.example" });
  });

  it("copies an item the backend rejected to the dead-letter queue and acks it", async () => {
    const id = await ingest("reject.example");
    await waitFor("the rejected message in the DLQ", () => (inDlq(id) ? true : undefined));
    const marker = await ingest("fail.example");
    await waitFor("a later retry cycle", () => (backend.timesDelivered(marker) >= 2 ? true : undefined));
    expect(backend.timesDelivered(id)).to.equal(1);
    expect(inDlq(id)).to.equal(1);
  });

  it("dead-letters a message that fails contract-4 validation without calling the backend", async () => {
    const queue = await edge.mf.getQueueProducer("REWARDS");
    const bogus = { v: 1, type: "vau.reward", id: "not-a-valid-message", earned: "-5" };
    await queue.send(bogus, { contentType: "json" });
    const parked = await waitFor("the invalid message in the DLQ", () => backend.deadLetters.find((m) => m.id === bogus.id));
    expect(parked).to.deep.equal(bogus);
    expect(backend.timesDelivered(bogus.id)).to.equal(0);
  });
});
