// The edge queue consumer (real Worker in workerd) delivering to the real influencer API through a
// faulty network: a proxy that answers 503, holds the request past the consumer's timeout, forwards
// and then loses the answer (503 after the backend committed), or forwards and reports part of the
// batch as `failed` although the backend credited it. Messages of one site never get through at all.
// Every reward message ends credited exactly once in the backend or in the dead-letter queue,
// counted. A message can be both: credited, then its answer lost often enough to be dead-lettered;
// replaying the DLQ (docs/runbooks/queue-backlog-and-dlq-replay.md) then finds it a duplicate, and
// after the replay every message is credited exactly once.
import { expect } from "chai";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { signedHeaders } from "@twist/shared/signed-request";
import { startEdge, type RunningEdge } from "../../runtime/edge/local/miniflare";
import { dlqObserverWorker } from "../../runtime/edge/test/support";
import { createTestDatabase, type TestDatabase } from "../support/postgres";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../support/redis";
import { balanceOf, Client, report, scale, sleep, startBackend, type Backend, type Wallet } from "./harness";

const MAX_RETRIES = 3;
const DOOMED_SITE = "unreachable.example";

type Mode = "503" | "timeout" | "lost-answer" | "partial-failed" | "forward";

/** The faulty network between the consumer and the backend (a test double of the network only). */
class FaultyNetwork {
  private server!: Server;
  url = "";
  readonly deadLetters: { id: string; [field: string]: unknown }[] = [];
  readonly seen: Record<Mode, number> = { "503": 0, timeout: 0, "lost-answer": 0, "partial-failed": 0, forward: 0 };
  private n = 0;
  constructor(
    private readonly backend: string,
    private readonly signingKey: string,
    private readonly modes: Mode[],
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString();
    if (req.url === "/dlq") {
      this.deadLetters.push(JSON.parse(raw) as { id: string });
      res.end();
      return;
    }
    const { messages } = JSON.parse(raw) as { messages: { id: string; siteId: string }[] };
    // The unreachable site's messages never get through: answered `failed` without forwarding.
    const through = messages.filter((m) => m.siteId !== DOOMED_SITE);
    const mode = through.length ? this.modes[this.n++ % this.modes.length]! : "forward";
    this.seen[mode]++;
    if (mode === "503") return void res.writeHead(503, { "content-type": "application/json" }).end('{"error":{"code":"UNAVAILABLE","message":"down","requestId":"x"}}');
    if (mode === "timeout") return; // never answered: the consumer's own timeout ends it
    const results = through.length ? ((await this.forward(through)).results as { id: string; status: string }[]) : [];
    if (mode === "lost-answer") return void res.writeHead(503).end();
    const byId = new Map(results.map((r, i) => [r.id, mode === "partial-failed" && i % 2 === 0 ? { ...r, status: "failed", code: "INTERNAL" } : r]));
    const answer = messages.map((m) => byId.get(m.id) ?? { id: m.id, status: "failed", code: "UNAVAILABLE" });
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ results: answer }));
  }

  /** Re-signs and forwards the messages to the real backend. */
  private async forward(messages: unknown[]): Promise<{ results: unknown[] }> {
    const body = JSON.stringify({ messages });
    const headers = await signedHeaders("POST", "/internal/v1/rewards", body, this.signingKey);
    return new Promise((resolve, reject) => {
      const out = request(`${this.backend}/internal/v1/rewards`, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(text) as { results: unknown[] }) : reject(new Error(`backend ${res.statusCode}: ${text}`))));
      });
      out.on("error", reject);
      out.end(body);
    });
  }
}

describe("fault: the edge consumer against a failing backend", function () {
  this.timeout(300_000);
  let db: TestDatabase;
  let backend: Backend;
  let edge: RunningEdge;
  let network: FaultyNetwork;
  const prefix = testRedisPrefix("fault-edge");

  before(async () => {
    db = await createTestDatabase("fault_edge");
    backend = await startBackend({ databaseUrl: db.url, redisUrl: TEST_REDIS_URL, redisPrefix: prefix, services: ["influencer"] });
    // The timeout costs the consumer's full delivery timeout (10 s): once per cycle of modes.
    const modes: Mode[] = ["503", "partial-failed", "lost-answer", "forward", "timeout", "partial-failed", "503", "forward"];
    network = new FaultyNetwork(backend.urls.influencer, backend.keys.SERVICE_SIGNING_KEYS.split(",")[0]!, modes);
    await network.start();
    edge = await startEdge({
      vars: {
        ENVIRONMENT: "development",
        BACKEND_URL: network.url,
        JWT_KEYS: backend.keys.JWT_KEYS,
        VAU_SIGNING_KEYS: backend.keys.VAU_SIGNING_KEYS,
        SERVICE_SIGNING_KEYS: backend.keys.SERVICE_SIGNING_KEYS,
        RETRY_BASE_DELAY_SECONDS: "1",
      },
      consumerOverrides: { rewards: { maxBatchTimeoutSeconds: 1, maxRetries: MAX_RETRIES } },
      extraWorkers: [dlqObserverWorker(network.url)],
    });
  });
  after(async () => {
    await edge?.stop();
    await network?.stop();
    await backend?.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  it("every reward message is credited exactly once or in the dead-letter queue, counted; after the DLQ replay each is credited exactly once", async () => {
    const client = new Client(backend.urls.influencer, backend.keys);
    const earners = await Promise.all(Array.from({ length: 3 }, () => client.wallet()));
    const doomedWallet = await client.wallet();
    const vaus: { wallet: Wallet; vauId: string; earned: bigint; doomed: boolean }[] = [];
    const count = scale(24, 120);
    for (let i = 0; i < count; i++) {
      const doomed = i % 8 === 0;
      const wallet = doomed ? doomedWallet : earners[i % 3]!;
      const body = JSON.stringify({ deviceId: `fault-device-${i % 6}`, siteId: doomed ? DOOMED_SITE : "news.example", timestamp: Date.now() - 1000 - i, activeMs: 60_000 });
      const res = await fetch(new URL("/api/v1/vau", edge.url), {
        method: "POST",
        headers: { "content-type": "application/json", ...wallet.auth, ...(await signedHeaders("POST", "/api/v1/vau", body, backend.keys.VAU_SIGNING_KEYS)) },
        body,
      });
      expect(res.status, await res.clone().text()).to.equal(200);
      const accepted = (await res.json()) as { vauId: string; earned: string };
      vaus.push({ wallet, vauId: accepted.vauId, earned: BigInt(accepted.earned), doomed });
    }
    const doomed = vaus.filter((v) => v.doomed);
    const delivered = vaus.filter((v) => !v.doomed);

    // Wait until every message has an outcome: each earner's balance reaches its total, and every
    // doomed message is in the DLQ (after MAX_RETRIES retries with backoff).
    const expectedOf = (w: Wallet) => delivered.filter((v) => v.wallet === w).reduce((s, v) => s + v.earned, 0n);
    const deadline = Date.now() + 180_000;
    for (;;) {
      const balances = await Promise.all(earners.map(async (w) => (await balanceOf(client, w)).total));
      const inDlq = new Set(network.deadLetters.map((m) => m.id));
      if (earners.every((w, i) => balances[i]! >= expectedOf(w)) && doomed.every((v) => inDlq.has(v.vauId))) break;
      if (Date.now() > deadline) throw new Error(`outcomes incomplete: balances ${balances} of ${earners.map(expectedOf)}, DLQ ${inDlq.size} of ${doomed.length}`);
      await sleep(500);
    }
    // Let any late redelivery land before judging "exactly once".
    await sleep(3000);

    let lost = 0;
    let doubled = 0;
    for (const w of earners) {
      const actual = (await balanceOf(client, w)).total;
      if (actual > expectedOf(w)) doubled++;
      expect(actual, `credits of ${w.address}`).to.equal(expectedOf(w));
    }
    expect((await balanceOf(client, doomedWallet)).total, "a message that never got through is not credited").to.equal(0n);
    const dlqIds = network.deadLetters.map((m) => m.id);
    expect(dlqIds.length, "each dead-lettered message once").to.equal(new Set(dlqIds).size);
    lost += doomed.filter((v) => !dlqIds.includes(v.vauId)).length;
    const creditedAndDeadLettered = delivered.filter((v) => dlqIds.includes(v.vauId)).map((v) => v.vauId);

    // The operator replays the DLQ to the backend: the ones already credited are duplicates, the
    // rest are credited now; afterwards every message is credited exactly once.
    const replay = await client.untilDone(
      () => client.deliverRewards(network.deadLetters),
      (a) => a.status === 200,
    );
    for (const r of replay.answer.body.results) {
      expect(r.status, r.id).to.equal(creditedAndDeadLettered.includes(r.id) ? "duplicate" : "credited");
    }
    for (const w of [...earners, doomedWallet]) {
      const expected = vaus.filter((v) => v.wallet === w).reduce((s, v) => s + v.earned, 0n);
      const actual = (await balanceOf(client, w)).total;
      if (actual > expected) doubled++;
      if (actual < expected) lost++;
      expect(actual, `credits of ${w.address} after the replay`).to.equal(expected);
    }
    expect(network.seen["503"] + network.seen["lost-answer"] + network.seen["partial-failed"], "faults injected").to.be.greaterThan(0);
    report({
      fault: "edge consumer vs backend answering 503, timing out, losing answers, partial failed",
      detail:
        `${vaus.length} reward messages: ${delivered.length} credited exactly once (${creditedAndDeadLettered.length} of them also dead-lettered: duplicates on replay), ` +
        `${doomed.length} unreachable ones in the DLQ after ${MAX_RETRIES} retries and credited once by the replay; deliveries seen ${Object.entries(network.seen)
          .map(([m, n]) => `${m}x${n}`)
          .join(" ")}`,
      lost,
      doubled,
    });
  });
});
