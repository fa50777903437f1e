// The influencer API's test harness: a real app on its own Postgres database (migrated) and Redis key
// prefix, tokens minted by the real auth code, merchant and service requests signed with contract 3,
// money moved through the real ledger.
import { randomBytes, randomUUID } from "node:crypto";
import { expect } from "chai";
import bs58 from "bs58";
import { Client } from "pg";
import request from "supertest";
import { signIdentityToken } from "@twist/shared/jwt";
import type { RewardMessageV1 } from "@twist/shared/messages";
import { parseJwtKeySet } from "@twist/shared/keys";
import { createLogger } from "@twist/shared/logger";
import { signedHeaders } from "@twist/shared/signed-request";
import { createTestDatabase, type TestDatabase } from "../../../test/support/postgres";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../../../test/support/redis";
import { createApp, type AppDeps, type InfluencerApp } from "../src/app";
import { loadInfluencerConfig, type InfluencerConfig } from "../src/config";
import { createSequelize } from "../src/db";
import { account, checkLedgerInvariants, Ledger } from "../src/ledger";
import type { Mailer, MailMessage } from "../src/mail";
import { runMigrations } from "../src/migrations";

export const JWT_KEYS_TEXT = "inf-2026:influencer-test-jwt-current-0001,inf-2025:influencer-test-jwt-previous-000";
export const JWT_KEY_SET = parseJwtKeySet(JWT_KEYS_TEXT);
export const MERCHANT_KEY = "merchant-test-signing-key-00000001";
export const SERVICE_KEY = "service-test-signing-key-000000001";
export const MERCHANT_DOMAIN = "shop.example.com";

/** The mail transport boundary, recorded: tests read the verification links it "sent". */
export class RecordingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  async send(message: MailMessage): Promise<void> {
    this.sent.push(message);
  }
  lastToken(): string {
    const text = this.sent.at(-1)?.text ?? "";
    const match = /token=([A-Za-z0-9_-]+)/.exec(text);
    if (!match) throw new Error("no verification token was sent");
    return match[1]!;
  }
}

/** A settable clock; defaults to real time. */
export class TestClock {
  private fixed: number | null = null;
  now = (): Date => new Date(this.fixed ?? Date.now());
  set(at: Date | number): void {
    this.fixed = typeof at === "number" ? at : at.getTime();
  }
  advance(ms: number): void {
    this.fixed = this.now().getTime() + ms;
  }
}

export interface Harness {
  service: InfluencerApp;
  app: InfluencerApp["app"];
  config: InfluencerConfig;
  db: TestDatabase;
  prefix: string;
  mailer: RecordingMailer;
  clock: TestClock;
  close(): Promise<void>;
}

export function baseEnv(db: TestDatabase, prefix: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    TWIST_ENV: "development",
    LOG_LEVEL: "silent",
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_KEYS: JWT_KEYS_TEXT,
    SERVICE_SIGNING_KEYS: SERVICE_KEY,
    MERCHANT_SIGNING_KEYS: MERCHANT_KEY,
    IP_HASH_SALT: "influencer-test-ip-salt-0001",
    MERCHANT_DOMAINS: `${MERCHANT_DOMAIN},merchant.test`,
    PUBLIC_BASE_URL: "https://twist.test",
    TRUSTED_PROXY_HEADER: "X-Forwarded-For",
    CLICK_RATE_LIMIT_PER_MINUTE: "100000",
    // Tests of other features make many writes per wallet; write-limits.test.ts sets its own.
    STAKE_LIMIT_PER_WINDOW: "100000",
    LINK_LIMIT_PER_WINDOW: "100000",
    PAYOUT_LIMIT_PER_WINDOW: "100000",
    ...env,
  };
}

export async function startHarness(label: string, env: Record<string, string> = {}, deps: AppDeps = {}): Promise<Harness> {
  const db = await createTestDatabase(label);
  const prefix = testRedisPrefix(label);
  const sequelize = createSequelize(db.url, { poolMax: 2 });
  await runMigrations(sequelize);
  await sequelize.close();
  const config = loadInfluencerConfig(baseEnv(db, prefix, env));
  const mailer = new RecordingMailer();
  const clock = new TestClock();
  const service = createApp(config, { logger: createLogger("influencer-test", { level: "silent" }), mailer, now: clock.now, ...deps });
  // The app's Redis client fails fast until connected (no offline queue): start tests on a ready one.
  const { redis } = service.context;
  if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
  return {
    service,
    app: service.app,
    config,
    db,
    prefix,
    mailer,
    clock,
    close: async () => {
      await service.close();
      await db.drop();
      await deleteRedisPrefix(prefix);
    },
  };
}

export function newWallet(): string {
  return bs58.encode(randomBytes(32));
}

export async function tokenFor(wallet: string): Promise<string> {
  return (await signIdentityToken(wallet, JWT_KEY_SET)).token;
}

export interface User {
  wallet: string;
  token: string;
  auth: { Authorization: string };
}

export async function newUser(): Promise<User> {
  const wallet = newWallet();
  const token = await tokenFor(wallet);
  return { wallet, token, auth: { Authorization: `Bearer ${token}` } };
}

let seq = 0;
/** A user registered as an influencer. */
export async function newInfluencer(h: Harness, name = `inf_${process.pid % 1000}_${++seq}`): Promise<User & { username: string }> {
  const user = await newUser();
  const res = await request(h.app)
    .post("/api/v1/influencers")
    .set(user.auth)
    .send({ username: name, displayName: `Influencer ${name}`, email: `${name}@example.com` });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...user, username: name };
}

export async function newLink(h: Harness, owner: User, body: Record<string, unknown> = {}): Promise<{ code: string; url: string; targetUrl: string }> {
  const res = await request(h.app)
    .post("/api/v1/links")
    .set(owner.auth)
    .send({ targetUrl: `https://${MERCHANT_DOMAIN}/product/1?ref=abc`, ...body });
  if (res.status !== 201) throw new Error(`link creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A merchant request signed with contract 3 over the exact bytes sent. */
export async function merchantPost(h: Harness, path: string, body: unknown, key = MERCHANT_KEY) {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const headers = await signedHeaders("POST", path, raw, key);
  return request(h.app).post(path).set(headers).set("Content-Type", "application/json").send(raw);
}

/** A counted click from a browser-like visitor; returns the click id from the redirect. */
export async function click(h: Harness, code: string, visitor: { ip?: string; ua?: string } = {}): Promise<string | null> {
  const res = await request(h.app)
    .get(`/l/${code}`)
    .set("User-Agent", visitor.ua ?? "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36")
    .set("X-Forwarded-For", visitor.ip ?? "203.0.113.10");
  if (res.status !== 302) throw new Error(`redirect failed: ${res.status}`);
  return new URL(res.headers.location as string).searchParams.get("twist_click");
}

export async function countRows(h: Harness, table: string, where = "TRUE"): Promise<number> {
  const [rows] = await h.service.context.sequelize.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`);
  return (rows as { n: number }[])[0]!.n;
}

/** Rows in a table of a database the harness may have closed already (own short-lived connection). */
export async function countRowsAt(databaseUrl: string, table: string): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table}`);
    return rows[0].n as number;
  } finally {
    await client.end();
  }
}

export function expectEnvelope(body: any, code: string): void {
  if (!body?.error || body.error.code !== code || typeof body.error.requestId !== "string" || typeof body.error.message !== "string") {
    throw new Error(`expected ${code} envelope, got ${JSON.stringify(body)}`);
  }
}

/** A real browser's user agent: a redirect with it counts as a click (a bare "Mozilla/5.0" is a bot to isbot). */
export const BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15";

// ---- money: funding through the real ledger, signed reward deliveries, idempotent money requests ----

export function ledgerOf(h: Harness): Ledger {
  return new Ledger(h.service.context.sequelize);
}

/** Credits `amount` to a wallet's available balance the way rewards do (system:rewards -> available). */
export async function fund(h: Harness, wallet: string, amount: bigint): Promise<void> {
  const ledger = ledgerOf(h);
  await ledger.transaction((t) =>
    ledger.transfer(t, { id: `test-fund:${randomUUID()}`, from: account.system("rewards"), to: account.available(wallet), amount, kind: "reward", reference: null }),
  );
}

export async function balanceOf(h: Harness, key: string): Promise<bigint> {
  return ledgerOf(h).balance(key);
}

export async function expectLedgerConsistent(h: Harness): Promise<void> {
  const report = await checkLedgerInvariants(h.service.context.sequelize);
  expect(report.violations, report.violations.join("; ")).to.deep.equal([]);
  expect(report.sum).to.equal(0n);
}

/** A money POST with an Idempotency-Key (a fresh one unless given). */
export function moneyPost(h: Harness, user: User, path: string, body: unknown, key: string = `k-${randomUUID()}`) {
  return request(h.app)
    .post(path)
    .set(user.auth)
    .set("Idempotency-Key", key)
    .send(body as object);
}

export function rewardMessage(wallet: string, overrides: Partial<RewardMessageV1> = {}): RewardMessageV1 {
  const now = new Date().toISOString().replace(/\.\d+Z$/, ".000Z");
  return {
    v: 1,
    type: "vau.reward",
    id: `vau_${randomUUID().replace(/-/g, "")}`,
    walletAddress: wallet,
    deviceId: "device-1",
    siteId: "site.example",
    earned: "1000",
    trustScore: 0.9,
    occurredAt: now,
    receivedAt: now,
    ...overrides,
  };
}

/** POST /internal/v1/rewards signed with the service key (contract 3) over the exact bytes sent. */
export async function deliverRewards(h: Harness, body: unknown, key = SERVICE_KEY) {
  const raw = JSON.stringify(body);
  const headers = await signedHeaders("POST", "/internal/v1/rewards", raw, key);
  return request(h.app).post("/internal/v1/rewards").set(headers).set("Content-Type", "application/json").send(raw);
}
