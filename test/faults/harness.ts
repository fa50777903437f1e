// The fault suite's harness: the backend run from its real bundles (migration job, influencer API,
// settlement worker, auth) with the environment `npm start` gives them, processes that a test can
// kill -9 and restart, and a client that speaks only the public HTTP contracts (JWT, signed
// requests, Idempotency-Key). Faults are black-box: internals may change, these checks stay.
import { randomBytes, randomUUID } from "node:crypto";
import { Sequelize } from "sequelize";
import { parseJwtKeySet } from "@twist/shared/keys";
import { signIdentityToken } from "@twist/shared/jwt";
import { signedHeaders } from "@twist/shared/signed-request";
import bs58 from "bs58";
import { checkLedgerInvariants } from "../../runtime/influencer/src/ledger/invariants";
import { BUNDLES, serviceEnvironments } from "../../scripts/platform";
import { devKeys, type DevKeys } from "../../scripts/platform/dev-keys";
import { runJob, startProcess, waitUntilReady, type ServiceProcess } from "../../scripts/platform/process";
import { freePort } from "../support/ports";

/** `npm run faults` runs the full load (FAULTS_SCALE=full); inside `npm test` each fault runs bounded. */
export const FULL = process.env.FAULTS_SCALE === "full";
export const scale = (bounded: number, full: number) => (FULL ? full : bounded);

export const TWIST = 1_000_000_000n;

// ---- results: one line per fault, and the closing line ----

export interface FaultResult {
  fault: string;
  /** What the fault suite did and saw, e.g. "120 operations, 31 retried". */
  detail: string;
  lost: number;
  doubled: number;
}

const results: FaultResult[] = [];

export function report(result: FaultResult): void {
  results.push(result);
  console.log(`    fault: ${result.fault}: ${result.detail}; ${result.lost} lost, ${result.doubled} doubled`);
}

// Root hook: after the whole run, the closing line (only when a fault ran). Not in npm test's
// parallel workers, where a run is one worker's share of the files: there the per-fault lines stand.
if (process.env.MOCHA_WORKER_ID === undefined)
  after(() => {
    if (!results.length) return;
    const lost = results.reduce((n, r) => n + r.lost, 0);
    const doubled = results.reduce((n, r) => n + r.doubled, 0);
    const survived = results.filter((r) => r.lost === 0 && r.doubled === 0).length;
    console.log(`faults: ${survived} survived, ${lost} lost, ${doubled} doubled`);
  });

// ---- the backend processes ----

export interface BackendOptions {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  /** Extra environment for every Node service. */
  env?: Record<string, string>;
  /** Which processes to run (default: influencer and settlement). */
  services?: ServiceName[];
}

export type ServiceName = "auth" | "influencer" | "settlement";

export interface Backend {
  keys: DevKeys;
  urls: { auth: string; influencer: string };
  env: Record<ServiceName, Record<string, string>>;
  process(name: ServiceName): ServiceProcess;
  /** kill -9: no shutdown hook runs, in-flight requests and transactions are cut. */
  kill(name: ServiceName): Promise<void>;
  /** Starts the service again (as a container restart would) and waits until it is ready. */
  restart(name: ServiceName): Promise<void>;
  /** Every line each service printed, for diagnostics. */
  logs(name: ServiceName): string[];
  stop(): Promise<void>;
}

/** Lines kept per service for diagnostics. */
const LOG_LINES_KEPT = 2000;

export async function startBackend(options: BackendOptions): Promise<Backend> {
  const keys = devKeys({});
  const ports = { edge: 0, auth: await freePort(), influencer: await freePort() };
  const urls = { auth: `http://127.0.0.1:${ports.auth}`, influencer: `http://127.0.0.1:${ports.influencer}` };
  const envs = serviceEnvironments(
    {
      databaseUrl: options.databaseUrl,
      redisUrl: options.redisUrl,
      redisPrefix: options.redisPrefix,
      ports,
      merchantDomains: ["shop.example"],
      env: {
        LOG_LEVEL: "info",
        REWARD_DAILY_CAP: (1_000_000_000n * TWIST).toString(),
        PAYOUT_MIN_AMOUNT: TWIST.toString(),
        SETTLEMENT_BACKOFF_MS: "200",
        SETTLEMENT_SWEEP_EVERY_SECONDS: "1",
        SETTLEMENT_STALE_AFTER_SECONDS: "2",
        // The load retries writes per wallet far past the per-wallet write limits; those have their own tests.
        STAKE_LIMIT_PER_WINDOW: "1000000",
        LINK_LIMIT_PER_WINDOW: "1000000",
        PAYOUT_LIMIT_PER_WINDOW: "1000000",
        ...options.env,
      },
    },
    keys,
    { edge: "", ...urls },
  );
  const env: Record<ServiceName, Record<string, string>> = { auth: envs.auth, influencer: envs.influencer, settlement: { ...envs.influencer, WORKER_METRICS_PORT: "0" } };
  const script: Record<ServiceName, string> = { auth: BUNDLES.auth, influencer: BUNDLES.influencer, settlement: BUNDLES.settlement };
  const ready: Partial<Record<ServiceName, string>> = { auth: `${urls.auth}/ready`, influencer: `${urls.influencer}/ready` };
  const running = new Map<ServiceName, ServiceProcess>();
  const lines = new Map<ServiceName, string[]>();

  const launch = async (name: ServiceName) => {
    const log = lines.get(name) ?? [];
    lines.set(name, log);
    const service = startProcess(name, script[name], env[name], (line) => {
      log.push(line);
      if (log.length > LOG_LINES_KEPT) log.shift();
    });
    running.set(name, service);
    if (ready[name]) await waitUntilReady(ready[name]!, service, 60_000);
    else await waitForLine(log, /settlement worker running/, service);
  };

  await runJob("migrate", BUNDLES.migrate, envs.influencer);
  const services = options.services ?? ["influencer", "settlement"];
  for (const name of services) await launch(name);

  const get = (name: ServiceName) => {
    const service = running.get(name);
    if (!service) throw new Error(`${name} is not part of this backend`);
    return service;
  };
  return {
    keys,
    urls,
    env,
    process: get,
    kill: async (name) => {
      const { child } = get(name);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
    restart: (name) => launch(name),
    logs: (name) => lines.get(name) ?? [],
    stop: async () => {
      await Promise.all([...running.values()].map((s) => s.stop()));
    },
  };
}

async function waitForLine(log: string[], pattern: RegExp, service: ServiceProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (log.some((l) => pattern.test(l))) return;
    if (service.child.exitCode !== null) throw new Error(`${service.name} exited with ${service.child.exitCode}:\n${service.tail()}`);
    await sleep(100);
  }
  throw new Error(`${service.name} did not print ${pattern} within ${timeoutMs} ms:\n${service.tail()}`);
}

// ---- the client ----

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Answer<T = any> {
  /** 0 when no HTTP answer arrived (refused, reset, timed out). */
  status: number;
  body: T;
  headers: Headers;
}

export interface Wallet {
  address: string;
  auth: Record<string, string>;
}

export class Client {
  constructor(
    readonly base: string,
    readonly keys: DevKeys,
  ) {}

  /** A wallet signed in by its token. Any 32 bytes are an address; pass a real public key where the chain needs one. */
  async wallet(address = bs58.encode(randomBytes(32))): Promise<Wallet> {
    const { token } = await signIdentityToken(address, parseJwtKeySet(this.keys.JWT_KEYS));
    return { address, auth: { Authorization: `Bearer ${token}` } };
  }

  async call<T = any>(method: string, path: string, options: { headers?: Record<string, string>; body?: unknown; signWith?: string; timeoutMs?: number } = {}): Promise<Answer<T>> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const signed = options.signWith && body !== undefined ? await signedHeaders(method, path, body, options.signWith) : {};
    try {
      const res = await fetch(`${this.base}${path}`, {
        method,
        headers: { ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...signed, ...options.headers },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed as T, headers: res.headers };
    } catch {
      return { status: 0, body: null as T, headers: new Headers() };
    }
  }

  /** Reward messages as the edge consumer delivers them (contract 4), signed with the service key. */
  deliverRewards(messages: unknown[]): Promise<Answer<{ results: { id: string; status: string }[] }>> {
    return this.call("POST", "/internal/v1/rewards", { body: { messages }, signWith: this.keys.SERVICE_SIGNING_KEYS.split(",")[0]! });
  }

  /** Credits `amount` to a wallet and waits until it is in its balance. */
  async fund(wallet: Wallet, amount: bigint): Promise<void> {
    const message = rewardMessage(wallet.address, amount);
    await this.untilDone(
      () => this.deliverRewards([message]),
      (a) => a.status === 200 && ["credited", "duplicate"].includes(a.body.results[0]!.status),
    );
  }

  /**
   * The client's retry: repeats the same request (same Idempotency-Key, same body) until `done`,
   * backing off; this is what every well-behaved client of the API does after a 5xx or a reset.
   */
  async untilDone<T>(
    send: () => Promise<Answer<T>>,
    done: (a: Answer<T>) => boolean = (a) => a.status >= 200 && a.status < 300,
    timeoutMs = 90_000,
  ): Promise<{ answer: Answer<T>; attempts: number; first: Answer<T> }> {
    const deadline = Date.now() + timeoutMs;
    let attempts = 0;
    let first: Answer<T> | undefined;
    let answer: Answer<T>;
    for (;;) {
      answer = await send();
      attempts++;
      first ??= answer;
      if (done(answer)) return { answer, attempts, first };
      if (answer.status >= 400 && answer.status < 500 && answer.status !== 429) {
        throw new Error(`request refused with ${answer.status}: ${JSON.stringify(answer.body)}`);
      }
      if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms; last answer ${answer.status} ${JSON.stringify(answer.body)}`);
      await sleep(Math.min(100 * attempts, 1000));
    }
  }
}

export function rewardMessage(walletAddress: string, earned: bigint, id = `fault-${randomUUID()}`) {
  const at = new Date().toISOString();
  return { v: 1, type: "vau.reward", id, walletAddress, deviceId: "fault-device", siteId: "fault.example", earned: earned.toString(), trustScore: 1, occurredAt: at, receivedAt: at };
}

export const idempotencyKey = () => `fault-${randomBytes(8).toString("hex")}`;

export async function balanceOf(client: Client, wallet: Wallet): Promise<{ available: bigint; staked: bigint; claimable: bigint; pendingPayout: bigint; total: bigint }> {
  const { answer } = await client.untilDone(() => client.call("GET", "/api/v1/me/balance", { headers: wallet.auth }));
  const b = answer.body as Record<string, string>;
  return { available: BigInt(b.available!), staked: BigInt(b.staked!), claimable: BigInt(b.claimable!), pendingPayout: BigInt(b.pendingPayout!), total: BigInt(b.total!) };
}

/** An influencer with a staking pool and a referral link, ready for stakes and conversions. */
export async function influencerWithPool(client: Client): Promise<{ wallet: Wallet; poolId: string; linkCode: string; clickId: string }> {
  const wallet = await client.wallet();
  const suffix = randomBytes(4).toString("hex");
  await client.untilDone(
    () => client.call("POST", "/api/v1/influencers", { headers: wallet.auth, body: { username: `fault_${suffix}`, displayName: "Fault", email: `fault+${suffix}@example.com` } }),
    (a) => a.status === 201,
  );
  const pool = await client.untilDone(
    () => client.call("POST", "/api/v1/pools", { headers: wallet.auth, body: { name: `Fault pool ${suffix}`, revenueShareBps: 2000, minStake: "1" } }),
    (a) => a.status === 201,
  );
  const link = await client.untilDone(
    () => client.call("POST", "/api/v1/links", { headers: wallet.auth, body: { targetUrl: "https://shop.example/p", productId: "p" } }),
    (a) => a.status === 201,
  );
  const linkCode = link.answer.body.code as string;
  // A followed link: the click conversions are attributed to.
  const click = await client.untilDone(
    () => client.call("GET", `/l/${linkCode}`, { headers: { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) fault-suite" } }),
    (a) => a.status === 302,
  );
  const clickId = new URL(click.answer.headers.get("location") ?? "").searchParams.get("twist_click") ?? "";
  return { wallet, poolId: pool.answer.body.pool.id, linkCode, clickId };
}

/** The ledger's own invariant check (docs/ledger.md), run against the database after the fault. */
export async function ledgerViolations(databaseUrl: string): Promise<string[]> {
  const sequelize = new Sequelize(databaseUrl, { dialect: "postgres", logging: false });
  try {
    return (await checkLedgerInvariants(sequelize)).violations;
  } finally {
    await sequelize.close();
  }
}

export interface Load<T> {
  /** Resolves with every task's result once all are done. */
  done: Promise<T[]>;
  total: number;
  /**
   * Resolves once `fraction` of the tasks have completed. Faults are triggered by the load's
   * progress, never by the clock, so a fault always lands mid-load however fast the machine is.
   */
  reached(fraction: number): Promise<void>;
}

/** Runs `tasks` with at most `width` in flight. */
export function startLoad<T>(width: number, tasks: (() => Promise<T>)[]): Load<T> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  let completed = 0;
  const waiters: { at: number; resolve: () => void }[] = [];
  const done = Promise.all(
    Array.from({ length: Math.min(width, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
        completed++;
        for (const w of waiters.filter((w) => completed >= w.at)) w.resolve();
      }
    }),
  ).then(() => out);
  return {
    done,
    total: tasks.length,
    reached: (fraction) =>
      new Promise<void>((resolve) => {
        const at = Math.max(1, Math.floor(tasks.length * fraction));
        if (completed >= at) resolve();
        else waiters.push({ at, resolve });
      }),
  };
}
