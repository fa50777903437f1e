// Pure functions of the edge: the VAU id, the device trust score, the earnings, the aggregator's hour
// key and the consumer's backoff. No I/O, so the same inputs always give the same outputs;
// docs/edge.md restates the formulas.
import { BASE_UNITS_PER_TWIST } from "@twist/shared/amount";
import { sha256Hex, utf8 } from "@twist/shared/encoding";

/** vauId = lowercase hex sha256 of `${sub}\n${deviceId}\n${siteId}\n${timestamp}` (timestamp in Unix ms). */
export function vauIdOf(sub: string, deviceId: string, siteId: string, timestamp: number): Promise<string> {
  return sha256Hex(utf8(`${sub}\n${deviceId}\n${siteId}\n${timestamp}`));
}

/** What a wallet's gate remembers about one of its devices; the trust score's input (KV held it before the gate). */
export interface DeviceHistory {
  /** Unix ms of the first accepted VAU. */
  firstSeen: number;
  /** Unix ms of the latest accepted VAU. */
  lastSeen: number;
  /** Accepted VAUs ever. */
  total: number;
  /** Start (Unix ms) of the current one-hour activity window, and the VAUs accepted in it. */
  windowStart: number;
  windowCount: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export const TRUST = {
  /** Score of a device with no history. */
  base: 0.1,
  /** Weight of device age; full after `matureDays`. */
  ageWeight: 0.5,
  matureDays: 7,
  /** Weight of volume; full at `volumeSaturation` accepted VAUs (log scale). */
  volumeWeight: 0.4,
  volumeSaturation: 1000,
  /** VAUs per hour above which recent activity counts as a burst; the score halves at twice this. */
  burstPerHour: 120,
} as const;

/**
 * Trust in [0, 1], rounded to 3 decimals:
 *   age    = min(1, (now - firstSeen) / 7 days)
 *   volume = min(1, log2(1 + total) / log2(1 + 1000))
 *   burst  = clamp((recentPerHour - 120) / 120, 0, 1)   (recentPerHour: VAUs in the current hour window)
 *   trust  = (0.1 + 0.5 * age + 0.4 * volume) * (1 - 0.5 * burst)
 * No history: 0.1.
 */
export function trustScore(history: DeviceHistory | null, now: number): number {
  if (!history) return TRUST.base;
  const age = clamp((now - history.firstSeen) / (TRUST.matureDays * DAY_MS), 0, 1);
  const volume = clamp(Math.log2(1 + history.total) / Math.log2(1 + TRUST.volumeSaturation), 0, 1);
  const recent = now - history.windowStart < HOUR_MS ? history.windowCount : 0;
  const burst = clamp((recent - TRUST.burstPerHour) / TRUST.burstPerHour, 0, 1);
  const score = (TRUST.base + TRUST.ageWeight * age + TRUST.volumeWeight * volume) * (1 - 0.5 * burst);
  return Math.round(clamp(score, 0, 1) * 1000) / 1000;
}

/** The history after one more accepted VAU at `now`. */
export function recordActivity(history: DeviceHistory | null, now: number): DeviceHistory {
  if (!history) return { firstSeen: now, lastSeen: now, total: 1, windowStart: now, windowCount: 1 };
  const sameWindow = now - history.windowStart < HOUR_MS;
  return {
    firstSeen: Math.min(history.firstSeen, now),
    lastSeen: Math.max(history.lastSeen, now),
    total: history.total + 1,
    windowStart: sameWindow ? history.windowStart : now,
    windowCount: sameWindow ? history.windowCount + 1 : 1,
  };
}

/** Parses a stored history; anything malformed counts as no history. */
export function parseHistory(value: unknown): DeviceHistory | null {
  if (typeof value !== "object" || value === null) return null;
  const h = value as Record<string, unknown>;
  const fields = ["firstSeen", "lastSeen", "total", "windowStart", "windowCount"] as const;
  return fields.every((f) => typeof h[f] === "number" && Number.isFinite(h[f])) ? (h as unknown as DeviceHistory) : null;
}

/** Base units earned per active hour at trust 1: one TWIST. */
export const EARN_RATE_PER_HOUR = BASE_UNITS_PER_TWIST;

/**
 * earned = min(cap, floor(activeMs * round(trust * 1000) * 10^9 / (3_600_000 * 1000))) base units,
 * i.e. one TWIST per active hour at full trust, scaled by trust, capped per VAU.
 */
export function earnedFor(trust: number, activeMs: number, cap: bigint): bigint {
  const trustMilli = BigInt(Math.round(clamp(trust, 0, 1) * 1000));
  const raw = (BigInt(Math.max(0, Math.floor(activeMs))) * trustMilli * EARN_RATE_PER_HOUR) / (BigInt(HOUR_MS) * 1000n);
  return raw < cap ? raw : cap;
}

/** Start (Unix ms) of the UTC hour holding `ms`; the aggregator's key. */
export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

export const MAX_RETRY_DELAY_SECONDS = 43_200;

/** Consumer backoff before the next attempt: base * 2^(attempts-1) seconds, capped at 12 h (the platform maximum). */
export function retryDelaySeconds(attempts: number, baseSeconds: number): number {
  const exponent = Math.min(Math.max(attempts, 1) - 1, 30);
  return Math.min(MAX_RETRY_DELAY_SECONDS, baseSeconds * 2 ** exponent);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
