// GET /api/v1/events at scale: the real bundle (dist/influencer/main.js) as a child process on a
// fresh, migrated database, N authenticated sockets (one wallet each) from this process, then events
// published through the real hook (recordEvents in transactions, NOTIFY on commit) to every wallet.
// Prints sockets connected and how long it took, events/s delivered, p50/p95/p99 delivery latency
// (publisher's commit acknowledged -> frame received), and memory per socket (server RSS growth / N). The same
// N sockets and frame count then go to a bare `ws` server (bare-server.ts) for the ratio to the
// transport's own limit measured in this run.
//   npx tsx bench/events/run.ts [--sockets 5000] [--events 20000] [--batch 200] [--publishers 4]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import bs58 from "bs58";
import WebSocket from "ws";
import { signIdentityToken } from "@twist/shared/jwt";
import { parseJwtKeySet } from "@twist/shared/keys";
import { BEARER_SUBPROTOCOL_PREFIX, EVENTS_SUBPROTOCOL } from "@twist/shared/events";
import { createSequelize } from "../../runtime/influencer/src/db";
import { recordEvents } from "../../runtime/influencer/src/events/record";
import { createTestDatabase } from "../../test/support/postgres";
import { TEST_REDIS_URL, deleteRedisPrefix } from "../../test/support/redis";
import { freePort } from "../../test/support/ports";
import { parseCommandLine, usageError } from "../../scripts/lib/cli";
import { peakRssMiB, percentile, report } from "../report";
import { buildBundles, ROOT } from "../lib/service";

const USAGE = `usage: npx tsx bench/events/run.ts [--sockets <n>] [--events <n>] [--batch <n>]
  --sockets  concurrent sockets on one instance, one wallet each (default 5000)
  --events   events published in total, spread over the wallets (default 20000)
  --batch    events per publishing transaction (default 200)
  --publishers  transactions publishing concurrently (default 4)`;

const { values } = parseCommandLine({
  usage: USAGE,
  options: { sockets: { type: "string" }, events: { type: "string" }, batch: { type: "string" }, publishers: { type: "string" } },
});
const int = (name: string, text: string | undefined, fallback: number) => {
  if (text === undefined) return fallback;
  if (!/^[1-9][0-9]{0,6}$/.test(text)) usageError(`--${name} must be a positive integer`, USAGE);
  return Number(text);
};
const SOCKETS = int("sockets", values.sockets, 5000);
const EVENTS = int("events", values.events, 20_000);
const BATCH = int("batch", values.batch, 200);
const PUBLISHERS = int("publishers", values.publishers, 4);

const JWT_KEYS = "bench:bench-jwt-secret-0123456789abcdef";
const rssMiB = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Fleet {
  sockets: WebSocket[];
  /** Per frame: its data (t = send time, or b = publishing batch) and when it arrived. */
  arrivals: { t?: number; b?: number; at: number }[];
  received: () => number;
  firstAt: () => number;
  lastAt: () => number;
}

/** Opens `count` sockets, `parallel` at a time; each resolves on its "ready" control frame. */
async function openFleet(url: (i: number) => string, protocols: (i: number) => string[], count: number): Promise<Fleet> {
  const arrivals: Fleet["arrivals"] = [];
  let received = 0;
  let firstAt = 0;
  let lastAt = 0;
  const sockets: WebSocket[] = [];
  const open = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url(i), protocols(i), { perMessageDeflate: false });
      ws.on("message", (data) => {
        const frame = JSON.parse(String(data)) as { control?: string; data?: { t?: number; b?: number } };
        if (frame.control === "ready") return resolve();
        if (frame.data) {
          const now = Date.now();
          arrivals.push({ ...frame.data, at: now });
          received++;
          if (!firstAt) firstAt = now;
          lastAt = now;
        }
      });
      ws.once("error", reject);
      sockets.push(ws);
    });
  for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, k) => open(i + k)));
  return { sockets, arrivals, received: () => received, firstAt: () => firstAt, lastAt: () => lastAt };
}

function summary(name: string, fleet: Fleet, started: number, sentAt: (a: Fleet["arrivals"][number]) => number): { perSecond: number; p50: number; p95: number; p99: number } {
  // A NOTIFY can reach the client a moment before the publisher sees its commit acknowledged: 0 then.
  const sorted = fleet.arrivals.map((a) => Math.max(0, a.at - sentAt(a))).sort((a, b) => a - b);
  const perSecond = fleet.received() / ((fleet.lastAt() - started) / 1000);
  const out = { perSecond, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
  console.log(`${name.padEnd(24)} ${fleet.received()} frames  ${perSecond.toFixed(0).padStart(7)} events/s   p50 ${out.p50} ms  p95 ${out.p95} ms  p99 ${out.p99} ms`);
  return out;
}

async function closeFleet(fleet: Fleet): Promise<void> {
  for (const ws of fleet.sockets) ws.terminate();
}

async function main(): Promise<void> {
  buildBundles("influencer");
  const db = await createTestDatabase("bench_events");
  const prefix = `twist-bench:events:${process.pid}:`;
  const children: ChildProcess[] = [];
  const sequelize = createSequelize(db.url, { poolMax: PUBLISHERS });
  try {
    const migrate = spawnSync(process.execPath, [join(ROOT, "dist", "influencer", "migrate.js")], { env: { PATH: process.env.PATH ?? "", DATABASE_URL: db.url, LOG_LEVEL: "warn" } });
    if (migrate.status !== 0) throw new Error(`migrate failed: ${migrate.stderr}`);
    const port = await freePort();
    const api = spawn(process.execPath, [join(ROOT, "dist", "influencer", "main.js")], {
      env: {
        PATH: process.env.PATH ?? "",
        PORT: String(port),
        LOG_LEVEL: "warn",
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
        JWT_KEYS,
        SERVICE_SIGNING_KEYS: "bench-service-signing-key-000000001",
        MERCHANT_SIGNING_KEYS: "bench-merchant-signing-key-00000001",
        IP_HASH_SALT: "bench-ip-hash-salt-0001",
        MERCHANT_DOMAINS: "shop.example.com",
        PUBLIC_BASE_URL: "http://localhost",
        EVENTS_MAX_SOCKETS_PER_IP: String(SOCKETS + 10),
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    children.push(api);
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${port}/ready`).then(
          (r) => r.status,
          () => 0,
        )) === 200,
      30_000,
      "the API ready",
    );

    const keys = parseJwtKeySet(JWT_KEYS);
    const wallets = Array.from({ length: SOCKETS }, () => bs58.encode(randomBytes(32)));
    const tokens = await Promise.all(wallets.map(async (w) => (await signIdentityToken(w, keys)).token));
    const rssBefore = rssMiB(api.pid!);
    const t0 = Date.now();
    const fleet = await openFleet(
      () => `ws://127.0.0.1:${port}/api/v1/events`,
      (i) => [EVENTS_SUBPROTOCOL, `${BEARER_SUBPROTOCOL_PREFIX}${tokens[i]}`],
      SOCKETS,
    );
    const connectSeconds = (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 500));
    const perSocketKiB = ((rssMiB(api.pid!) - rssBefore) * 1024) / SOCKETS;
    console.log(
      `twist: ${SOCKETS} sockets authenticated in ${connectSeconds.toFixed(1)} s (${(SOCKETS / connectSeconds).toFixed(0)}/s); server RSS +${((perSocketKiB * SOCKETS) / 1024).toFixed(0)} MiB = ${perSocketKiB.toFixed(1)} KiB per socket`,
    );

    const started = Date.now();
    const committedAt: number[] = [];
    let next = 0;
    const publisher = async () => {
      for (let b = next++; b * BATCH < EVENTS; b = next++) {
        const from = b * BATCH;
        const n = Math.min(BATCH, EVENTS - from);
        await sequelize.transaction((t) =>
          recordEvents(
            t,
            Array.from({ length: n }, (_, k) => ({ wallet: wallets[(from + k) % SOCKETS]!, type: "reward.credited" as const, data: { b, amount: "1000" } })),
          ),
        );
        committedAt[b] = Date.now();
      }
    };
    await Promise.all(Array.from({ length: PUBLISHERS }, publisher));
    const publishSeconds = (Date.now() - started) / 1000;
    await waitFor(() => fleet.received() >= EVENTS, 120_000, `${EVENTS} events delivered (got ${fleet.received()})`);
    console.log(
      `twist: published ${EVENTS} events in ${publishSeconds.toFixed(1)} s (${(EVENTS / publishSeconds).toFixed(0)}/s committed, ${BATCH} per transaction, ${PUBLISHERS} at a time)`,
    );
    const twist = summary("twist events", fleet, started, (a) => committedAt[a.b!]!);
    const peak = peakRssMiB(api.pid);
    await closeFleet(fleet);

    // The limit in the same run: the same sockets and frames on a bare ws server.
    const barePort = await freePort();
    const bare = spawn(process.execPath, ["--import", "tsx", join(__dirname, "bare-server.ts")], {
      env: { ...process.env, PORT: String(barePort) },
      stdio: ["pipe", "pipe", "inherit"],
    });
    children.push(bare);
    await new Promise<void>((resolve) => bare.stdout!.once("data", () => resolve()));
    const bareBefore = rssMiB(bare.pid!);
    const bareFleet = await openFleet(
      () => `ws://127.0.0.1:${barePort}`,
      () => [],
      SOCKETS,
    );
    await new Promise((r) => setTimeout(r, 500));
    const barePerSocketKiB = ((rssMiB(bare.pid!) - bareBefore) * 1024) / SOCKETS;
    const bareStarted = Date.now();
    bare.stdin!.write(`fire ${EVENTS}\n`);
    await waitFor(() => bareFleet.received() >= EVENTS, 120_000, "bare frames delivered");
    const limit = summary("bare ws (limit)", bareFleet, bareStarted, (a) => a.t!);
    await closeFleet(bareFleet);
    console.log(`bare ws: ${barePerSocketKiB.toFixed(1)} KiB per socket`);
    console.log(`ratios: delivery rate twist/bare ${(twist.perSecond / limit.perSecond).toFixed(2)}; memory per socket twist/bare ${(perSocketKiB / barePerSocketKiB).toFixed(2)}`);
    console.log("(the machine's cores are shared with other work: read the ratios, not the absolute figures)");

    report("events", [
      {
        metric: `events delivered to ${SOCKETS} sockets (one instance)`,
        perSecond: twist.perSecond,
        p50Ms: twist.p50,
        p95Ms: twist.p95,
        p99Ms: twist.p99,
        peakRssMiB: peak,
        note: `${perSocketKiB.toFixed(1)} KiB/socket; ${(twist.perSecond / limit.perSecond).toFixed(2)} x bare ws`,
      },
    ]);
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await sequelize.close();
    await new Promise((r) => setTimeout(r, 500));
    await db.drop().catch(() => undefined);
    await deleteRedisPrefix(prefix);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
