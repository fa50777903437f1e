// Outages of the Worker's own storage and queue, in real workerd: the binding is pointed at a
// throwaway worker that fails the way the service would (KV `get` throws, the wallet's gate throws,
// the queue refuses the send). The client gets 503 UNAVAILABLE, nothing stays claimed or charged,
// and its retry after recovery is accepted, not a duplicate.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare, type WorkerOptions } from "miniflare";
import { WORKER } from "../bindings";
import { edgeMiniflareOptions, startEdge, type EdgeRunnerOptions, type RunningEdge } from "../local/miniflare";
import { errorOf, newWallet, send, TEST_SECRETS, tokenFor, vauBody } from "./support";

const OUTAGE_WORKER = `
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
export class FailingKv extends WorkerEntrypoint {
  async get() { throw new Error("KV is unavailable"); }
  async put() { throw new Error("KV is unavailable"); }
}
export class FailingQueue extends WorkerEntrypoint {
  async send() { throw new Error("queue is unavailable"); }
  async sendBatch() { throw new Error("queue is unavailable"); }
}
export class FailingGate extends DurableObject {
  async admit() { throw new Error("overloaded"); }
  async release() { throw new Error("overloaded"); }
}
export default { fetch() { return new Response("outage worker"); } };`;

type Outage = "kv" | "gate" | "queue";
const DEVICE_LIMIT = 5;

/** The edge with one binding replaced by a failing stand-in from the outage worker. */
async function startWithOutage(options: EdgeRunnerOptions, outage: Outage): Promise<RunningEdge> {
  const mfOptions = edgeMiniflareOptions(options) as { workers: WorkerOptions[] };
  const edge = mfOptions.workers[0]!;
  if (outage === "kv") {
    const { DEVICES: _, ...kv } = edge.kvNamespaces as Record<string, string>;
    edge.kvNamespaces = kv;
    edge.serviceBindings = { DEVICES: { name: "outage", entrypoint: "FailingKv" } };
  } else if (outage === "queue") {
    const { REWARDS: _, ...producers } = edge.queueProducers as Record<string, unknown>;
    edge.queueProducers = producers as WorkerOptions["queueProducers"];
    edge.serviceBindings = { REWARDS: { name: "outage", entrypoint: "FailingQueue" } };
  } else {
    edge.durableObjects = {
      ...(edge.durableObjects as Record<string, unknown>),
      WALLETS: { className: "FailingGate", scriptName: "outage", useSQLite: true },
    } as WorkerOptions["durableObjects"];
  }
  mfOptions.workers.push({
    name: "outage",
    modules: true,
    script: OUTAGE_WORKER,
    compatibilityDate: WORKER.compatibilityDate,
    durableObjects: { GATE: { className: "FailingGate", useSQLite: true } },
  });
  const mf = new Miniflare(mfOptions as ConstructorParameters<typeof Miniflare>[0]);
  const url = await mf.ready;
  return { mf, url, stop: () => mf.dispose() };
}

describe("edge storage and queue outages (workerd)", () => {
  let dir: string;
  let edge: RunningEdge | undefined;
  let options: EdgeRunnerOptions;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "twist-edge-outage-"));
    options = { persistDir: dir, vars: { ...TEST_SECRETS, ENVIRONMENT: "staging", BACKEND_URL: "http://127.0.0.1:9", RATE_LIMIT_DEVICE_PER_MINUTE: String(DEVICE_LIMIT) } };
  });
  afterEach(async () => {
    await edge?.stop();
    edge = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const names: Record<Outage, string> = { kv: "legacy device histories (KV)", gate: "the wallet's gate (Durable Object)", queue: "the reward queue" };
  for (const outage of ["kv", "gate", "queue"] as const) {
    it(`${names[outage]} down: 503 UNAVAILABLE; after recovery the retry is accepted as new and charged once`, async () => {
      const token = await tokenFor(newWallet());
      const vau = vauBody();
      edge = await startWithOutage(options, outage);
      const failed = await send(edge, vau, { token });
      expect(failed.status).to.equal(503);
      const error = await errorOf(failed);
      expect(error.code).to.equal("UNAVAILABLE");
      expect(error.message).to.match(/retry later/);
      await edge.stop();

      edge = await startEdge(options);
      const retried = await send(edge, vau, { token });
      expect(retried.status).to.equal(200);
      // Nothing of the failed attempt stayed: not the claim, not the device's slot, not its history.
      expect(retried.headers.get("x-ratelimit-remaining")).to.equal(String(DEVICE_LIMIT - 1));
      expect(((await retried.json()) as { trustScore: number }).trustScore).to.equal(0.1);
      expect((await send(edge, vau, { token })).status).to.equal(409);
    });
  }

  it("a batch whose reward messages the queue refuses: 503, the whole admission is released, and the retry accepts every item", async () => {
    const token = await tokenFor(newWallet());
    const deviceId = vauBody().deviceId;
    const vaus = [vauBody({ deviceId }), vauBody({ deviceId, siteId: "b.example" }), vauBody()];
    edge = await startWithOutage(options, "queue");
    const failed = await send(edge, { vaus }, { path: "/api/v1/vau/batch", token });
    expect(failed.status).to.equal(503);
    expect((await errorOf(failed)).code).to.equal("UNAVAILABLE");
    await edge.stop();

    edge = await startEdge(options);
    const retried = await send(edge, { vaus }, { path: "/api/v1/vau/batch", token });
    expect(retried.status).to.equal(200);
    const { results } = (await retried.json()) as { results: { status: number; trustScore?: number }[] };
    expect(results.map((r) => r.status)).to.deep.equal([200, 200, 200]);
    expect(results[0]!.trustScore).to.equal(0.1); // the device's history starts again from nothing
  });
});
