// One Analytics Engine data point per request, in real workerd. Miniflare's own dataset discards what
// it is given, so the ANALYTICS binding is pointed at a recorder entrypoint (a named test double at
// the Analytics Engine boundary) that keeps every point it receives; the Worker code is unchanged.
import { expect } from "chai";
import { Miniflare, type WorkerOptions } from "miniflare";
import { WORKER } from "../bindings";
import { edgeMiniflareOptions, type RunningEdge } from "../local/miniflare";
import { DURATION_BUCKETS_MS } from "../src/metrics";
import { newWallet, send, TEST_SECRETS, tokenFor, vauBody, waitFor } from "./support";

const RECORDER = `
import { WorkerEntrypoint } from "cloudflare:workers";
const points = [];
export class AnalyticsRecorder extends WorkerEntrypoint {
  writeDataPoint(point) { points.push(point); }
}
export default { fetch() { return Response.json(points); } };`;

interface Point {
  indexes: string[];
  blobs: string[];
  doubles: number[];
}

const CLIENT_IP = "203.0.113.77";

describe("edge analytics: one data point per request (workerd)", () => {
  let mf: Miniflare;
  let edge: RunningEdge;

  before(async () => {
    const options = edgeMiniflareOptions({ vars: { ...TEST_SECRETS, ENVIRONMENT: "staging", BACKEND_URL: "http://127.0.0.1:9" } }) as { workers: WorkerOptions[] };
    const worker = options.workers[0]!;
    const { ANALYTICS: _, ...datasets } = worker.analyticsEngineDatasets as Record<string, unknown>;
    worker.analyticsEngineDatasets = datasets as WorkerOptions["analyticsEngineDatasets"];
    worker.serviceBindings = { ANALYTICS: { name: "recorder", entrypoint: "AnalyticsRecorder" } };
    options.workers.push({ name: "recorder", modules: true, script: RECORDER, compatibilityDate: WORKER.compatibilityDate });
    mf = new Miniflare(options as ConstructorParameters<typeof Miniflare>[0]);
    edge = { mf, url: await mf.ready, stop: () => mf.dispose() };
  });
  after(async () => {
    await mf?.dispose();
  });

  const recorded = async (): Promise<Point[]> => (await (await mf.getWorker("recorder")).fetch("http://recorder/")).json() as Promise<Point[]>;

  it("records route, method, outcome, latency bucket and status, and nothing that identifies the caller", async () => {
    const wallet = newWallet();
    const token = await tokenFor(wallet);
    const signatures: string[] = [];
    const ipHeaders = { "cf-connecting-ip": CLIENT_IP, "x-forwarded-for": CLIENT_IP, "x-real-ip": CLIENT_IP, cookie: "session=cookie-secret" };
    const accepted = await send(edge, vauBody(), { token, capture: signatures, headers: ipHeaders });
    const unsigned = await send(edge, vauBody(), { token, key: null, headers: ipHeaders });
    const unknown = await fetch(new URL(`/api/v1/${wallet}/private-path`, edge.url), { headers: ipHeaders });
    const health = await fetch(new URL("/health", edge.url), { headers: ipHeaders });
    expect([accepted.status, unsigned.status, unknown.status, health.status]).to.deep.equal([200, 401, 404, 200]);

    const points = await waitFor("four data points", async () => {
      const all = await recorded();
      return all.length >= 4 ? all : undefined;
    });
    expect(points).to.have.length(4); // one per request, no more
    const summary = points.map((p) => [p.indexes[0], p.blobs[0], p.blobs[1], p.blobs[2], p.doubles[0]]);
    expect(summary).to.have.deep.members([
      ["/api/v1/vau", "/api/v1/vau", "POST", "ok", 200],
      ["/api/v1/vau", "/api/v1/vau", "POST", "unauthorized", 401],
      ["unmatched", "unmatched", "GET", "not_found", 404],
      ["/health", "/health", "GET", "ok", 200],
    ]);
    const buckets = [...DURATION_BUCKETS_MS.map((b) => `le_${b}`), `gt_${DURATION_BUCKETS_MS[DURATION_BUCKETS_MS.length - 1]}`];
    for (const p of points) {
      expect(buckets).to.include(p.blobs[3]);
      expect(p.blobs).to.have.length(4);
      expect(p.doubles).to.have.length(2);
      expect(p.doubles[1]).to.be.at.least(0);
    }
    const text = JSON.stringify(points);
    for (const secret of [token, token.split(".")[2]!, wallet, CLIENT_IP, "cookie-secret", "private-path", ...signatures.map((s) => s.slice(3))]) {
      expect(text).to.not.include(secret);
    }
  });
});
