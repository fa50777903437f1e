// Outages of the Worker's own storage, in real workerd: the binding is pointed at a throwaway worker
// that fails the way the service would (KV `get` throws, a Durable Object answers 503). The client
// gets 503 UNAVAILABLE, nothing is claimed, and its retry after recovery is accepted, not a duplicate.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare, type WorkerOptions } from "miniflare";
import { WORKER } from "../bindings";
import { edgeMiniflareOptions, startEdge, type EdgeRunnerOptions, type RunningEdge } from "../local/miniflare";
import { vauIdOf } from "../src/scoring";
import { errorOf, newWallet, send, TEST_SECRETS, tokenFor, vauBody } from "./support";

const OUTAGE_WORKER = `
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
export class FailingKv extends WorkerEntrypoint {
  async get() { throw new Error("KV is unavailable"); }
  async put() { throw new Error("KV is unavailable"); }
}
export class FailingObject extends DurableObject {
  async fetch() { return new Response("overloaded", { status: 503 }); }
}
// A dedupe shard set where the shards of ids starting 0-7 fail their first claim of an id; the other
// shards (and later attempts) claim like the real object: first claim wins, /release forgets.
export class HalfFailingDedupe extends DurableObject {
  async fetch(request) {
    const { id } = await request.json();
    if (new URL(request.url).pathname === "/release") {
      await this.ctx.storage.delete("seen:" + id);
      return Response.json({ released: true });
    }
    if (/^[0-7]/.test(id) && !(await this.ctx.storage.get("failed:" + id))) {
      await this.ctx.storage.put("failed:" + id, true);
      return new Response("overloaded", { status: 503 });
    }
    if (await this.ctx.storage.get("seen:" + id)) return Response.json({ claimed: false });
    await this.ctx.storage.put("seen:" + id, true);
    return Response.json({ claimed: true });
  }
}
export default { fetch() { return new Response("outage worker"); } };`;

/** The edge with one binding replaced by a failing stand-in from the outage worker. */
async function startWithOutage(options: EdgeRunnerOptions, outage: "kv" | "dedupe" | "half-dedupe"): Promise<RunningEdge> {
  const mfOptions = edgeMiniflareOptions(options) as { workers: WorkerOptions[] };
  const edge = mfOptions.workers[0]!;
  if (outage === "kv") {
    const { DEVICES: _, ...kv } = edge.kvNamespaces as Record<string, string>;
    edge.kvNamespaces = kv;
    edge.serviceBindings = { DEVICES: { name: "outage", entrypoint: "FailingKv" } };
  } else {
    const className = outage === "dedupe" ? "FailingObject" : "HalfFailingDedupe";
    edge.durableObjects = { ...(edge.durableObjects as Record<string, unknown>), DEDUPE: { className, scriptName: "outage", useSQLite: true } } as WorkerOptions["durableObjects"];
  }
  mfOptions.workers.push({
    name: "outage",
    modules: true,
    script: OUTAGE_WORKER,
    compatibilityDate: WORKER.compatibilityDate,
    durableObjects: { FAILING: { className: "FailingObject", useSQLite: true }, HALF: { className: "HalfFailingDedupe", useSQLite: true } },
  });
  const mf = new Miniflare(mfOptions as ConstructorParameters<typeof Miniflare>[0]);
  const url = await mf.ready;
  return { mf, url, stop: () => mf.dispose() };
}

describe("edge storage outages (workerd)", function () {
  let dir: string;
  let edge: RunningEdge | undefined;
  let options: EdgeRunnerOptions;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "twist-edge-outage-"));
    options = { persistDir: dir, vars: { ...TEST_SECRETS, ENVIRONMENT: "staging", BACKEND_URL: "http://127.0.0.1:9" } };
  });
  afterEach(async () => {
    await edge?.stop();
    edge = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  for (const outage of ["kv", "dedupe"] as const) {
    it(`${outage === "kv" ? "device history (KV)" : "the dedupe Durable Object"} down: 503 UNAVAILABLE, and the retry after recovery is accepted`, async () => {
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
    });
  }

  it("a batch whose dedupe shards fail in part: 503, the claims taken are released, and the retry accepts every item", async () => {
    const wallet = newWallet();
    const token = await tokenFor(wallet);
    // Items on both sides: some ids in the failing shards (0-7), some in the working ones (8-f).
    const vaus: Record<string, unknown>[] = [];
    const sides = new Set<boolean>();
    while (vaus.length < 4 || sides.size < 2) {
      const vau = vauBody();
      const id = await vauIdOf(wallet, vau.deviceId as string, vau.siteId as string, vau.timestamp as number);
      sides.add(/^[0-7]/.test(id));
      vaus.push(vau);
    }
    edge = await startWithOutage(options, "half-dedupe");
    const failed = await send(edge, { vaus }, { path: "/api/v1/vau/batch", token });
    expect(failed.status).to.equal(503);
    expect((await errorOf(failed)).code).to.equal("UNAVAILABLE");

    const retried = await send(edge, { vaus }, { path: "/api/v1/vau/batch", token });
    expect(retried.status).to.equal(200);
    const { results } = (await retried.json()) as { results: { status: number; error?: { code: string } }[] };
    expect(results.map((r) => r.error?.code ?? r.status)).to.deep.equal(vaus.map(() => 200));
  });
});
