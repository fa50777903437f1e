// The ingest use case behind POST /api/v1/vau and /batch: valid VAUs of one wallet go to its
// WalletGate in one call (rate limits, dedupe, trust score and earned, atomically), the accepted ones
// with something earned go to the reward queue in one send, and the hourly totals go to a batch
// flushed off the hot path.
// A gate that fails answers 503 with nothing decided; a queue that refuses the messages gets the
// admission released first, so the client's retry is neither a duplicate nor charged twice.
import { ApiError, type ErrorCode, unavailable } from "@twist/shared/errors";
import { validateRewardMessage, type RewardMessageV1 } from "@twist/shared/messages";
import type { AuditItem } from "./audit";
import { Batcher } from "./batcher";
import type { EdgeConfig } from "./config";
import type { Env } from "./env";
import { log } from "./log";
import { inc } from "./metrics";
import type { HourEvent } from "./objects/hourly-aggregator";
import { reach } from "./objects/reach";
import type { Admission, RateLimitView, Verdict } from "./objects/admission";
import { AGGREGATOR_NAME } from "./retention";
import { vauIdOf } from "./scoring";
import type { VauInput } from "./vau";

const hourly = new Batcher<HourEvent>("hourly totals", 1000);

export interface VauAccepted {
  vauId: string;
  earned: string;
  trustScore: number;
  timestamp: number;
}

export type ItemAccepted = { status: 200 } & VauAccepted;
export type ItemResult = ItemAccepted | { status: number; vauId?: string; error: { code: ErrorCode; message: string; details?: unknown } };

const isAccepted = (r: ItemResult): r is ItemAccepted => !("error" in r);

export interface RequestContext {
  env: Env;
  config: EdgeConfig;
  waitUntil: (p: Promise<unknown>) => void;
  now: number;
}

export interface IngestOutcome {
  /** One per input VAU, in order. */
  results: ItemResult[];
  rateLimit: RateLimitView;
  /** Ms until a rate-limited item would fit; 0 when none was refused. */
  retryAfterMs: number;
}

/** The wallet's gate: one object per JWT sub. */
export const walletGate = (env: Env, wallet: string) => env.WALLETS.get(env.WALLETS.idFromName(`wallet:${wallet}`));

/**
 * One wallet's validated VAUs through its gate in a single call, so limits and dedupe are decided
 * atomically for the whole batch. Throws a 503 when the gate or the reward queue is unreachable,
 * never with an admission left standing, so the client can simply retry.
 */
export async function ingest(rc: RequestContext, wallet: string, vaus: VauInput[]): Promise<IngestOutcome> {
  const { env, config } = rc;
  const ids = await Promise.all(vaus.map((v) => vauIdOf(wallet, v.deviceId, v.siteId, v.timestamp)));
  const gate = walletGate(env, wallet);
  const admission: Admission = await reach("the wallet's gate", () =>
    gate.admit({
      wallet,
      walletLimit: config.walletPerMinute,
      deviceLimit: config.devicePerMinute,
      // A claim outlives the time its VAU could still pass timestamp validation.
      claimTtlMs: config.maxAgeMs + config.maxSkewMs + 60_000,
      maxEarned: config.maxEarnedPerVau.toString(),
      items: vaus.map((v, i) => ({ vauId: ids[i]!, deviceId: v.deviceId, activeMs: v.activeMs })),
    }),
  );

  const results = admission.verdicts.map((verdict, i) => resultOf(verdict, ids[i]!, vaus[i]!));
  const messages = results.flatMap((r, i) => (isAccepted(r) && r.earned !== "0" ? [rewardMessage(wallet, vaus[i]!, r, admission.now)] : []));
  if (messages.length) {
    try {
      await env.REWARDS.sendBatch(messages.map((body) => ({ body, contentType: "json" as const })));
    } catch (err) {
      log("error", "reward queue send failed; releasing the admission", { wallet, items: messages.length, error: String(err) });
      await reach("the wallet's gate", () => gate.release(admission.undo)).catch((releaseErr) =>
        log("error", "releasing the admission failed; the retry may be refused as a duplicate", { wallet, error: String(releaseErr) }),
      );
      throw unavailable("the reward queue is unavailable; retry later");
    }
    inc("twist_edge_reward_messages_total", {}, messages.length);
    inc("twist_edge_earned_base_units_total", {}, Number(messages.reduce((s, m) => s + BigInt(m.earned), 0n)));
  }
  for (const verdict of admission.verdicts) inc("twist_edge_vau_total", { outcome: verdict.outcome });

  const events = results.flatMap((r, i) => (isAccepted(r) ? [{ occurredAt: vaus[i]!.timestamp, earned: r.earned }] : []));
  if (events.length) {
    hourly.add(events, config.batchFlushMs, (batch) => env.AGGREGATOR.get(env.AGGREGATOR.idFromName(AGGREGATOR_NAME)).record(batch), rc.waitUntil);
  }
  return { results, rateLimit: admission.rateLimit, retryAfterMs: admission.retryAfterMs };
}

function resultOf(verdict: Verdict, vauId: string, vau: VauInput): ItemResult {
  switch (verdict.outcome) {
    case "accepted":
      return { status: 200, vauId, earned: verdict.earned, trustScore: verdict.trustScore, timestamp: vau.timestamp };
    case "duplicate":
      return errorItem(new ApiError("DUPLICATE_VAU", "this VAU was already received", { status: 409 }), vauId);
    case "rate_limited":
      return errorItem(new ApiError("RATE_LIMITED", "rate limit exceeded for this wallet or device"), vauId);
  }
}

function rewardMessage(wallet: string, vau: VauInput, accepted: VauAccepted, receivedAt: number): RewardMessageV1 {
  const check = validateRewardMessage({
    v: 1,
    type: "vau.reward",
    id: accepted.vauId,
    walletAddress: wallet,
    deviceId: vau.deviceId,
    siteId: vau.siteId,
    earned: accepted.earned,
    trustScore: accepted.trustScore,
    occurredAt: new Date(vau.timestamp).toISOString(),
    receivedAt: new Date(receivedAt).toISOString(),
  });
  if (!check.ok) throw new Error(`reward message failed validation: ${check.errors.join("; ")}`);
  return check.value;
}

/** One refused item in the per-item shape a batch answers with, so a batch never fails whole for one bad VAU. */
export function errorItem(err: ApiError, vauId?: string): ItemResult {
  const error = err.details === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, details: err.details };
  return vauId === undefined ? { status: err.status, error } : { status: err.status, vauId, error };
}

/** The X-RateLimit-* headers for the tightest window the gate consulted. */
export function rateLimitHeaders(view: RateLimitView): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(view.limit),
    "X-RateLimit-Remaining": String(view.remaining),
    "X-RateLimit-Reset": String(Math.ceil(view.resetAt / 1000)),
  };
}

/** What the audit log keeps of an item: ids, outcome and amounts; the client's payload never reaches R2. */
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
