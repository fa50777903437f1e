// What the Worker and its wallet's gate exchange (WalletGate.admit and release): plain types with no
// runtime imports, so Node tests read them as they are.
import type { DeviceHistory } from "../scoring";

export interface AdmitItem {
  vauId: string;
  deviceId: string;
  activeMs: number;
}

export interface AdmitRequest {
  /** The JWT sub; used only to find histories written by the versions before this class (KV). */
  wallet: string;
  walletLimit: number;
  deviceLimit: number;
  /** How long a claimed vauId is remembered: until its timestamp could no longer pass validation. */
  claimTtlMs: number;
  /** MAX_EARNED_PER_VAU in base units. */
  maxEarned: string;
  /** Valid VAUs in request order. */
  items: AdmitItem[];
}

export type Verdict = { outcome: "accepted"; trustScore: number; earned: string } | { outcome: "duplicate" } | { outcome: "rate_limited" };

export interface RateLimitView {
  limit: number;
  remaining: number;
  /** Unix ms when the window is empty again. */
  resetAt: number;
}

/** What release() needs to take an admission back; opaque to the caller. */
export interface Undo {
  at: number;
  claims: string[];
  /** Slots taken per bucket at `at`. */
  slots: { bucket: string; n: number }[];
  devices: { deviceId: string; before: DeviceHistory | null; after: DeviceHistory }[];
}

export interface Admission {
  /** The object's clock when it decided (Unix ms). */
  now: number;
  /** One per item, in order. */
  verdicts: Verdict[];
  /** The tightest of the wallet's and the touched devices' windows, for X-RateLimit-*. */
  rateLimit: RateLimitView;
  /** Ms until a refused item would fit (0 when none was refused). */
  retryAfterMs: number;
  undo: Undo;
}
