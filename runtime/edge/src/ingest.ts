// POST /api/v1/vau and /api/v1/vau/batch: authentication, body checks, rate limits, dedupe, scoring,
// the reward message (contract 4) and the side effects handed to waitUntil.
import { ApiError, unauthorized, unavailable, validationError } from "@twist/shared/errors";
import { bearerToken, JwtError, verifyIdentityToken } from "@twist/shared/jwt";
import { MAX_DELIVERY_BATCH, TOKEN_PATTERN, validateRewardMessage, type RewardMessageV1 } from "@twist/shared/messages";
import { verifySignedRequest } from "@twist/shared/signed-request";
import { fromUtf8 } from "@twist/shared/encoding";
import type { EdgeConfig } from "./config";
import type { Env } from "./env";
import { AGGREGATOR_NAME, callObject, type HourEvent, type TakeResult } from "./objects";
import { earnedFor, parseHistory, recordActivity, trustScore, vauIdOf, type DeviceHistory } from "./scoring";
import type { AuditItem } from "./audit";
import { inc } from "./metrics";
import { Batcher } from "./batcher";

export const MAX_VAU_BODY_BYTES = 8 * 1024;
export const MAX_BATCH_BODY_BYTES = 512 * 1024;
export const MAX_BATCH_ITEMS = MAX_DELIVERY_BATCH;
export const MAX_ACTIVE_MS = 3_600_000;
export const MAX_PAYLOAD_BYTES = 2048;
/** Dedupe shards: the first two hex digits of the vauId, 256 Durable Objects. */
const DEDUPE_SHARD_HEX_DIGITS = 2;
const dedupeShard = (vauId: string) => `shard:${vauId.slice(0, DEDUPE_SHARD_HEX_DIGITS)}`;
const hourly = new Batcher<HourEvent>("hourly totals", 1000);
/**
 * KV key of a device's history. The deviceId is the client's choice, so the history is the wallet's
 * own: another wallet sending the same deviceId starts from no history instead of borrowing its trust.
 */
const historyKey = (wallet: string, deviceId: string) => `device:${wallet}:${deviceId}`;
/** Device histories accepted in this isolate but not yet written to KV, by historyKey; reads prefer them. */
const pendingHistory = new Map<string, DeviceHistory>();
const historyWrites = new Batcher<string>("device history", 1000);

async function writeHistories(kv: KVNamespace, keys: string[]): Promise<void> {
  await Promise.all(
    [...new Set(keys)].map(async (key) => {
      const history = pendingHistory.get(key);
      if (!history) return;
      await kv.put(key, JSON.stringify(history));
      // A newer history accepted during the write stays pending for the next flush.
      if (pendingHistory.get(key) === history) pendingHistory.delete(key);
    }),
  );
}

export interface VauInput {
  deviceId: string;
  siteId: string;
  timestamp: number;
  activeMs: number;
  payload?: Record<string, unknown>;
}

export interface VauAccepted {
  vauId: string;
  earned: string;
  trustScore: number;
  timestamp: number;
}

export type ItemResult =
  | ({ status: 200 } & VauAccepted)
  | { status: number; vauId?: string; error: { code: string; message: string; details?: unknown } };

export interface RequestContext {
  env: Env;
  config: EdgeConfig;
  waitUntil: (p: Promise<unknown>) => void;
  now: number;
}

/** Verifies the bearer token (contract 1); the wallet is the token's `sub`, never the body's. */
export async function authenticate(request: Request, config: EdgeConfig, now: number): Promise<string> {
  const header = request.headers.get("authorization");
  if (!header) throw unauthorized("Authorization: Bearer <token> is required", { reason: "TOKEN_MISSING" });
  const token = bearerToken(header);
  if (!token) throw unauthorized("Authorization must be Bearer <token>", { reason: "TOKEN_MALFORMED" });
  try {
    // Contract 1: the verifier also refuses a sub that is not a wallet address.
    const claims = await verifyIdentityToken(token, config.jwtKeys, { now: Math.floor(now / 1000) });
    return claims.sub;
  } catch (err) {
    if (err instanceof JwtError) throw unauthorized(err.message, { reason: err.reason });
    throw err;
  }
}

/** Reads the raw body, refusing more than `limit` bytes whatever Content-Length claims. */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const tooLarge = () => validationError(`body exceeds ${limit} bytes`, { reason: "BODY_TOO_LARGE", limit });
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Contract 3 over the raw bytes received; skipped only when ENVIRONMENT is development. */
export async function checkSignature(request: Request, body: Uint8Array, config: EdgeConfig, now: number): Promise<void> {
  if (config.environment === "development" && config.vauSigningKeys.length === 0) return;
  const url = new URL(request.url);
  const check = await verifySignedRequest(
    {
      method: request.method,
      target: url.pathname + url.search,
      body,
      timestamp: request.headers.get("x-timestamp"),
      signature: request.headers.get("x-signature"),
    },
    config.vauSigningKeys,
    { now },
  );
  if (!check.ok) throw unauthorized(check.message, { reason: check.reason });
}

export function parseJsonBody(body: Uint8Array): unknown {
  try {
    return JSON.parse(fromUtf8(body));
  } catch {
    throw validationError("body must be UTF-8 JSON", { reason: "BAD_JSON" });
  }
}

const VAU_FIELDS = new Set(["deviceId", "siteId", "timestamp", "activeMs", "payload"]);

/** Field-by-field validation; every problem is reported as {field, message}. */
export function validateVau(input: unknown, config: EdgeConfig, now: number): { ok: true; value: VauInput } | { ok: false; details: { field: string; message: string }[] } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, details: [{ field: "(body)", message: "must be a JSON object" }] };
  }
  const v = input as Record<string, unknown>;
  const details: { field: string; message: string }[] = [];
  const bad = (field: string, message: string) => details.push({ field, message });
  for (const key of Object.keys(v)) {
    if (!VAU_FIELDS.has(key)) bad(key, "is not an accepted field (the wallet comes from the token)");
  }
  for (const field of ["deviceId", "siteId"] as const) {
    if (typeof v[field] !== "string" || !TOKEN_PATTERN.test(v[field] as string)) bad(field, "must be 1-128 printable ASCII characters without spaces");
  }
  const ts = v.timestamp;
  if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts <= 0) bad("timestamp", "must be Unix milliseconds (positive integer)");
  else if (now - ts > config.maxAgeMs) bad("timestamp", `is older than ${config.maxAgeMs / 1000} s`);
  else if (ts - now > config.maxSkewMs) bad("timestamp", `is more than ${config.maxSkewMs / 1000} s in the future`);
  const active = v.activeMs;
  if (typeof active !== "number" || !Number.isSafeInteger(active) || active < 0 || active > MAX_ACTIVE_MS) {
    bad("activeMs", `must be an integer from 0 to ${MAX_ACTIVE_MS}`);
  }
  if (v.payload !== undefined) {
    if (typeof v.payload !== "object" || v.payload === null || Array.isArray(v.payload)) bad("payload", "must be an object when present");
    else if (new TextEncoder().encode(JSON.stringify(v.payload)).byteLength > MAX_PAYLOAD_BYTES) bad("payload", `must serialise to at most ${MAX_PAYLOAD_BYTES} bytes`);
  }
  return details.length ? { ok: false, details } : { ok: true, value: v as unknown as VauInput };
}

/** Validates the batch envelope {vaus: [...]}; items are validated one by one afterwards. */
export function batchItems(input: unknown): unknown[] {
  const vaus = (input as { vaus?: unknown } | null)?.vaus;
  if (typeof input !== "object" || input === null || Array.isArray(input) || !Array.isArray(vaus)) {
    throw validationError("body must be {\"vaus\": [...]}", [{ field: "vaus", message: "must be an array" }]);
  }
  const extra = Object.keys(input).filter((k) => k !== "vaus");
  if (extra.length) throw validationError("unknown fields in batch body", extra.map((field) => ({ field, message: "is not an accepted field" })));
  if (vaus.length < 1 || vaus.length > MAX_BATCH_ITEMS) {
    throw validationError(`vaus must hold 1-${MAX_BATCH_ITEMS} items`, [{ field: "vaus", message: `must hold 1-${MAX_BATCH_ITEMS} items` }]);
  }
  return vaus;
}

export interface RateLimitView {
  limit: number;
  remaining: number;
  resetAt: number;
}

/** The X-RateLimit-* headers for the tightest of the buckets consulted. */
export function rateLimitHeaders(view: RateLimitView | null): Record<string, string> {
  if (!view) return {};
  return {
    "X-RateLimit-Limit": String(view.limit),
    "X-RateLimit-Remaining": String(view.remaining),
    "X-RateLimit-Reset": String(Math.ceil(view.resetAt / 1000)),
  };
}

function errorItem(err: ApiError, vauId?: string): ItemResult {
  const error = err.details === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, details: err.details };
  return vauId === undefined ? { status: err.status, error } : { status: err.status, vauId, error };
}

/**
 * Runs valid VAUs of one wallet through rate limits, dedupe, scoring and the queue. Results come
 * back in input order; `rateLimit` is the tightest bucket seen, for the response headers.
 */
async function readDeviceHistory(kv: KVNamespace, key: string): Promise<unknown> {
  try {
    return await kv.get(key, "json");
  } catch {
    throw unavailable("device history (KV) is unavailable; retry later");
  }
}

export async function ingest(
  rc: RequestContext,
  wallet: string,
  vaus: VauInput[],
): Promise<{ results: ItemResult[]; rateLimit: RateLimitView | null; retryAfterMs: number }> {
  const { env, config, now } = rc;
  const ids = await Promise.all(vaus.map((v) => vauIdOf(wallet, v.deviceId, v.siteId, v.timestamp)));
  const results: (ItemResult | undefined)[] = vaus.map(() => undefined);

  // Rate limits: every valid VAU counts against its wallet's and its device's window, asked in
  // parallel; an item goes ahead only when both granted it.
  const partial = vaus.length > 1;
  const byDevice = new Map<string, number[]>();
  vaus.forEach((v, i) => byDevice.set(v.deviceId, [...(byDevice.get(v.deviceId) ?? []), i]));
  // Device history is only read, so it is fetched while the limits are asked, and awaited before
  // any dedupe claim is taken: a KV outage then answers 503 with nothing claimed, and the client's
  // retry is not mistaken for a duplicate.
  const historiesRead = Promise.all(
    [...byDevice.keys()].map(async (d) => {
      const key = historyKey(wallet, d);
      return [d, pendingHistory.get(key) ?? parseHistory(await readDeviceHistory(env.DEVICES, key))] as const;
    }),
  );
  historiesRead.catch(() => {}); // awaited below; this only keeps an early throw from leaving it unhandled
  const [walletTake, ...deviceTakes] = await Promise.all([
    callObject<TakeResult>(env.RATE_LIMITER, `wallet:${wallet}`, "/take", { limit: config.walletPerMinute, cost: vaus.length, partial }),
    ...[...byDevice].map(([deviceId, indexes]) =>
      callObject<TakeResult>(env.RATE_LIMITER, `device:${deviceId}`, "/take", { limit: config.devicePerMinute, cost: indexes.length, partial }),
    ),
  ]);
  let tightest: TakeResult = walletTake!;
  let retryAfterMs = walletTake!.granted < vaus.length ? walletTake!.retryAfterMs : 0;
  const allowed = new Set<number>();
  [...byDevice.values()].forEach((indexes, d) => {
    const take = deviceTakes[d]!;
    if (take.remaining < tightest.remaining) tightest = take;
    indexes.forEach((i, n) => (n < take.granted && i < walletTake!.granted ? allowed.add(i) : undefined));
    if (take.granted < indexes.length) retryAfterMs = Math.max(retryAfterMs, take.retryAfterMs);
  });
  vaus.forEach((_, i) => {
    if (!allowed.has(i)) {
      inc("twist_edge_vau_total", { outcome: "rate_limited" });
      results[i] = errorItem(new ApiError("RATE_LIMITED", "rate limit exceeded for this wallet or device"), ids[i]);
    }
  });

  const histories = new Map<string, DeviceHistory | null>(await historiesRead);

  // Dedupe: the Durable Object shard of the id is the authority; claims expire once the timestamp
  // could no longer pass validation. When a claim fails or the queue refuses the messages, the claims
  // taken are released: nothing queued, nothing kept, so the client's retry is not a duplicate.
  const ttlMs = config.maxAgeMs + config.maxSkewMs + 60_000;
  const claimed: number[] = [];
  const releaseClaims = () => Promise.allSettled(claimed.map((i) => callObject(env.DEDUPE, dedupeShard(ids[i]!), "/release", { id: ids[i] })));
  const claims = await Promise.allSettled(
    [...allowed].map(async (i) => {
      const id = ids[i]!;
      const claim = await callObject<{ claimed: boolean }>(env.DEDUPE, dedupeShard(id), "/claim", { id, ttlMs });
      if (claim.claimed) claimed.push(i);
      else {
        inc("twist_edge_vau_total", { outcome: "duplicate" });
        results[i] = errorItem(new ApiError("DUPLICATE_VAU", "this VAU was already received", { status: 409 }), id);
      }
    }),
  );
  const claimFailure = claims.find((c) => c.status === "rejected");
  if (claimFailure) {
    // Some shards answered, some did not (a batch spans up to 100 of them): 503 with nothing kept.
    await releaseClaims();
    throw claimFailure.reason;
  }
  claimed.sort((a, b) => a - b);

  // Scoring from device history before these VAUs; items of one device see each other in order.
  const messages: RewardMessageV1[] = [];
  const events: HourEvent[] = [];
  const accepted: { i: number; result: ItemResult }[] = [];
  for (const i of claimed) {
    const v = vaus[i]!;
    const history = histories.get(v.deviceId) ?? null;
    const trust = trustScore(history, now);
    const earned = earnedFor(trust, v.activeMs, config.maxEarnedPerVau).toString();
    histories.set(v.deviceId, recordActivity(history, now));
    if (earned !== "0") {
      const message = {
        v: 1,
        type: "vau.reward",
        id: ids[i]!,
        walletAddress: wallet,
        deviceId: v.deviceId,
        siteId: v.siteId,
        earned,
        trustScore: trust,
        occurredAt: new Date(v.timestamp).toISOString(),
        receivedAt: new Date(now).toISOString(),
      };
      const check = validateRewardMessage(message);
      if (!check.ok) throw new Error(`reward message failed validation: ${check.errors.join("; ")}`);
      messages.push(check.value);
    }
    events.push({ occurredAt: v.timestamp, earned });
    accepted.push({ i, result: { status: 200, vauId: ids[i]!, earned, trustScore: trust, timestamp: v.timestamp } });
  }

  if (messages.length) {
    try {
      await env.REWARDS.sendBatch(messages.map((body) => ({ body, contentType: "json" as const })));
    } catch (err) {
      // Nothing was queued: release the claims so the client's retry is not a duplicate.
      await releaseClaims();
      console.error(JSON.stringify({ level: "error", msg: "reward queue send failed", error: String(err) }));
      throw unavailable("the reward queue is unavailable; retry later");
    }
    inc("twist_edge_reward_messages_total", {}, messages.length);
    inc("twist_edge_earned_base_units_total", {}, Number(messages.reduce((s, m) => s + BigInt(m.earned), 0n)));
  }
  for (const { i, result } of accepted) results[i] = result;
  inc("twist_edge_vau_total", { outcome: "accepted" }, accepted.length);

  // Side effects that need not delay the answer, batched in the isolate: device histories (the
  // latest per device, at most one KV write per device per flush: KV allows about one write per
  // second per key) and hourly totals.
  const touched = [...new Set(claimed.map((i) => vaus[i]!.deviceId))];
  for (const d of touched) pendingHistory.set(historyKey(wallet, d), histories.get(d)!);
  if (touched.length) {
    const keys = touched.map((d) => historyKey(wallet, d));
    rc.waitUntil(historyWrites.add(keys, config.batchFlushMs, (batch) => writeHistories(env.DEVICES, batch)));
  }
  if (events.length) {
    rc.waitUntil(hourly.add(events, config.batchFlushMs, (batch) => callObject(env.AGGREGATOR, AGGREGATOR_NAME, "/record", { events: batch })));
  }
  return {
    results: results as ItemResult[],
    rateLimit: { limit: tightest.limit, remaining: tightest.remaining, resetAt: tightest.resetAt },
    retryAfterMs,
  };
}

export function auditItem(result: ItemResult, vau?: VauInput): AuditItem {
  const item: AuditItem = { status: result.status };
  if (result.vauId) item.vauId = result.vauId;
  if (vau) {
    item.deviceId = vau.deviceId;
    item.siteId = vau.siteId;
  }
  if ("error" in result) item.code = result.error.code;
  else {
    item.earned = result.earned;
    item.trustScore = result.trustScore;
  }
  return item;
}
