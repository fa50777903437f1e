// Shared set-up of the auth tests: a real Redis under a test prefix, a movable clock, real ed25519
// wallets (tweetnacl, as a browser wallet would sign) and helpers that walk the sign-in flow.
import { once } from "node:events";
import { Writable } from "node:stream";
import bs58 from "bs58";
import nacl from "tweetnacl";
import request from "supertest";
import type { Express } from "express";
import { createLogger } from "@twist/shared/logger";
import { buildSiwsMessage, parseSiwsMessage, type SiwsFields } from "@twist/shared/siws";
import { createRedis } from "@twist/service";
import { createApp, type AuthDeps } from "../src/app";
import { loadAuthConfig, type AuthConfig } from "../src/config";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../../../test/support/redis";

export const JWT_KEYS = "k2:auth-test-current-secret-000001,k1:auth-test-previous-secret-00001";

export const silentLogger = createLogger("auth-test", { destination: new Writable({ write: (_c, _e, done) => done() }) });

export function testConfig(overrides: Record<string, string> = {}): AuthConfig {
  return loadAuthConfig({
    REDIS_URL: TEST_REDIS_URL,
    JWT_KEYS,
    SIWS_DOMAIN: "app.twist.test",
    SIWS_URI: "https://app.twist.test",
    SIWS_CHAIN_ID: "devnet",
    RATE_LIMIT_PER_IP: "100000",
    RATE_LIMIT_PER_WALLET: "100000",
    ...overrides,
  });
}

export interface TestService {
  app: Express;
  config: AuthConfig;
  prefix: string;
  redis: ReturnType<typeof createRedis>;
  clock: { now: number };
  close(): Promise<void>;
}

/** An app on its own Redis prefix with a clock the test moves; `redisUrl` lets a test point at a dead port. */
export async function startService(label: string, overrides: Record<string, string> = {}, redisUrl = TEST_REDIS_URL, extra: Pick<AuthDeps, "apiDocs"> = {}): Promise<TestService> {
  const prefix = testRedisPrefix(`auth-${label}`);
  const config = testConfig(overrides);
  const redis = createRedis(redisUrl, prefix);
  // The kit's client does not queue commands while connecting: start once it is ready (or has failed).
  if (redisUrl === TEST_REDIS_URL) await once(redis, "ready");
  const clock = { now: Date.now() };
  const app = createApp(config, { redis, logger: silentLogger, now: () => clock.now, ...extra });
  return {
    app,
    config,
    prefix,
    redis,
    clock,
    close: async () => {
      redis.disconnect();
      await deleteRedisPrefix(prefix);
    },
  };
}

export interface Wallet {
  address: string;
  sign(message: string): Uint8Array;
}

export function newWallet(seed?: Uint8Array): Wallet {
  const pair = seed ? nacl.sign.keyPair.fromSeed(seed) : nacl.sign.keyPair();
  return {
    address: bs58.encode(pair.publicKey),
    sign: (message) => nacl.sign.detached(new TextEncoder().encode(message), pair.secretKey),
  };
}

export interface Issued {
  nonce: string;
  message: string;
  issuedAt: string;
  expiresAt: string;
}

export async function requestNonce(app: Express, wallet: Wallet): Promise<Issued> {
  const res = await request(app).post("/auth/nonce").send({ walletAddress: wallet.address });
  if (res.status !== 200) throw new Error(`nonce request failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Issued;
}

/** The issued message with some fields changed, rebuilt in the contract 2 format. */
export function alter(message: string, changes: Partial<SiwsFields>): string {
  const fields = parseSiwsMessage(message);
  if (!fields) throw new Error("not a sign-in message");
  return buildSiwsMessage({ ...fields, ...changes });
}

export function verifyBody(wallet: Wallet, message: string, encoding: "base58" | "base64" = "base58", signer: Wallet = wallet) {
  const signature = signer.sign(message);
  return {
    walletAddress: wallet.address,
    message,
    signature: encoding === "base58" ? bs58.encode(signature) : Buffer.from(signature).toString("base64"),
  };
}
