// Analytics Engine data points, in real workerd: one per request (ANALYTICS), one per dead-lettered
// reward message (DEAD_LETTERS). Miniflare's own datasets discard what they are given, so the bundle
// runs under a wrapper module (a named test double at the Analytics Engine boundary) that hands the
// Worker an env whose datasets record every point in memory, synchronously as the real binding
// accepts them, and serves them at /__points; the Worker code is unchanged.
import { expect } from "chai";
import { Miniflare, type WorkerOptions } from "miniflare";
import { dirname, join } from "node:path";
import { WORKER, analyticsDatasets, queues } from "../bindings";
import { EDGE_BUNDLE, edgeMiniflareOptions, type EdgeRunnerOptions, type RunningEdge } from "../local/miniflare";
import { DEAD_LETTER_POINT, REQUEST_POINT } from "../src/analytics";
import { DURATION_BUCKETS_MS } from "../src/metrics";
import { BackendDouble, dlqObserverWorker, JWT_KEYS, newWallet, send, SERVICE_KEY, TEST_SECRETS, tokenFor, vauBody, waitFor } from "./support";

const RECORDING_WRAPPER = `
import worker from "./${WORKER.mainModule}";
export * from "./${WORKER.mainModule}";
const points = {};
const wrapped = new WeakMap();
const recording = (env) => {
  let e = wrapped.get(env);
  if (!e) {
    e = { ...env };
    for (const binding of ${JSON.stringify(analyticsDatasets.map((a) => a.binding))}) e[binding] = { writeDataPoint(p) { (points[binding] ??= []).push(p); } };
    wrapped.set(env, e);
  }
  return e;
};
export default {
  fetch(req, env, ctx) {
    return new URL(req.url).pathname === "/__points" ? Response.json(points) : worker.fetch(req, recording(env), ctx);
  },
  queue(batch, env, ctx) { return worker.queue(batch, recording(env), ctx); },
};`;

/** The edge with every Analytics Engine binding recording in memory (RECORDING_WRAPPER). */
async function edgeWithRecorder(options: EdgeRunnerOptions): Promise<{ mf: Miniflare; edge: RunningEdge; recorded: (binding: string) => Promise<Point[]> }> {
  const mfOptions = edgeMiniflareOptions(options) as { workers: WorkerOptions[] };
  const { scriptPath: _, ...worker } = mfOptions.workers[0] as WorkerOptions & { scriptPath?: string };
  mfOptions.workers[0] = {
    ...worker,
    modulesRoot: dirname(EDGE_BUNDLE),
    modules: [
      { type: "ESModule", path: join(dirname(EDGE_BUNDLE), "recording-wrapper.mjs"), contents: RECORDING_WRAPPER },
      { type: "ESModule", path: EDGE_BUNDLE },
    ],
  } as WorkerOptions;
  const mf = new Miniflare(mfOptions as ConstructorParameters<typeof Miniflare>[0]);
  const edge = { mf, url: await mf.ready, stop: () => mf.dispose() };
  const recorded = async (binding: string) => {
    const all = (await (await fetch(new URL("/__points", edge.url))).json()) as Record<string, Point[]>;
    return all[binding] ?? [];
  };
  return { mf, edge, recorded };
}

interface Point {
  indexes: string[];
  blobs: string[];
  doubles: number[];
}

const CLIENT_IP = "203.0.113.77";

describe("edge analytics: one data point per request (workerd)", () => {
  let mf: Miniflare;
  let edge: RunningEdge;

  let recordedIn: (binding: string) => Promise<Point[]>;

  before(async () => {
    ({ mf, edge, recorded: recordedIn } = await edgeWithRecorder({ vars: { ...TEST_SECRETS, ENVIRONMENT: "staging", BACKEND_URL: "http://127.0.0.1:9" } }));
  });
  after(async () => {
    await mf?.dispose();
  });

  const recorded = () => recordedIn("ANALYTICS");

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
    // Read by the layout's field names: the layout is what the dashboards and docs follow.
    expect(REQUEST_POINT.blobs).to.deep.equal(["route", "method", "outcome", "latencyBucket"]);
    expect(REQUEST_POINT.doubles).to.deep.equal(["status", "durationMs"]);
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

describe("edge analytics: one data point per dead-lettered reward message, of every cause (workerd)", function () {
  this.timeout(60_000);
  const backend = new BackendDouble();
  let mf: Miniflare;
  let edge: RunningEdge;
  let recorded: (binding: string) => Promise<Point[]>;
  const maxRetries = queues.find((q) => q.queue === "rewards")!.consumer!.maxRetries;

  // Puts a body on the rewards queue as it is, bypassing ingest: the only way a message that breaks
  // contract 4 can reach the consumer in a test.
  const PRODUCER = `export default { async fetch(req, env) { await env.Q.send(await req.json(), { contentType: "json" }); return new Response("queued"); } };`;

  before(async () => {
    await backend.start();
    backend.decide = (m) => (m.siteId === "reject.example" ? "rejected" : m.siteId === "fail.example" ? "failed" : "credited");
    ({ mf, edge, recorded } = await edgeWithRecorder({
      // The deployed retry limit (bindings.ts), retried without delay (a delay of 0 falls back to the consumer's retryDelay).
      vars: { JWT_KEYS, SERVICE_SIGNING_KEYS: SERVICE_KEY, ENVIRONMENT: "development", BACKEND_URL: backend.url, RETRY_BASE_DELAY_SECONDS: "0" },
      consumerOverrides: { rewards: { maxBatchTimeoutSeconds: 0, retryDelaySeconds: 0 } },
      extraWorkers: [
        { name: "producer", modules: true, script: PRODUCER, compatibilityDate: WORKER.compatibilityDate, queueProducers: { Q: { queueName: "rewards" } } },
        dlqObserverWorker(backend.url),
      ],
    }));
  });
  after(async () => {
    await mf?.dispose();
    await backend.stop();
  });

  it("records invalid, rejected and retries_exhausted with the attempts, and nothing for a credited message", async () => {
    const token = await tokenFor(newWallet());
    const ingest = async (siteId: string) => {
      const res = await send(edge, vauBody({ siteId }), { token, key: null });
      expect(res.status).to.equal(200);
      return ((await res.json()) as { vauId: string }).vauId;
    };
    const credited = await ingest("credit.example");
    const rejected = await ingest("reject.example");
    const failing = await ingest("fail.example");
    await (await mf.getWorker("producer")).fetch("http://producer/", { method: "POST", body: JSON.stringify({ not: "a reward message" }) });

    const points = await waitFor(
      "three dead-letter points",
      async () => {
        const all = await recorded("DEAD_LETTERS");
        return all.length >= 3 ? all : undefined;
      },
      20_000,
    );
    expect(DEAD_LETTER_POINT).to.deep.equal({ index: "cause", blobs: ["cause"], doubles: ["attempts"] });
    expect(points.map((p) => [p.indexes[0], p.blobs[0], p.doubles[0]])).to.have.deep.members([
      ["invalid", "invalid", 1],
      ["rejected", "rejected", 1],
      ["retries_exhausted", "retries_exhausted", maxRetries + 1],
    ]);
    // Each really reached the dead-letter queue (the platform moved the exhausted one), the credited one did not.
    await waitFor("three messages in the dead-letter queue", () => (backend.deadLetters.length >= 3 ? true : undefined), 15_000);
    const ids = backend.deadLetters.map((m) => m.id);
    expect(ids).to.include.members([rejected, failing]).and.not.include(credited);
    expect(backend.timesDelivered(failing)).to.equal(maxRetries + 1);
    expect(JSON.stringify(points)).to.not.include(rejected).and.not.include(failing);
  });
});
