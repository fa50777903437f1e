// Contract 4: the reward message the edge puts on the queue, and the backend delivery exchange
// (POST /internal/v1/rewards) the queue consumer uses. Validated on both sides.
import { isAmount } from "./amount";
import { isWalletAddress } from "./wallet";

export const REWARD_MESSAGE_VERSION = 1;
export const REWARD_MESSAGE_TYPE = "vau.reward";
export const MAX_DELIVERY_BATCH = 100;

export interface RewardMessageV1 {
  v: 1;
  type: "vau.reward";
  /** The vauId; the backend credits each id at most once. */
  id: string;
  walletAddress: string;
  deviceId: string;
  siteId: string;
  /** Base units as an integer string (contract 5). */
  earned: string;
  /** 0..1 */
  trustScore: number;
  /** ISO-8601 instants. */
  occurredAt: string;
  receivedAt: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: string[] };

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** deviceId and siteId: printable ASCII, no spaces, bounded. */
export const TOKEN_PATTERN = /^[\x21-\x7e]{1,128}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

export function validateRewardMessage(input: unknown): Validation<RewardMessageV1> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return { ok: false, errors: ["message must be an object"] };
  const m = input as Record<string, unknown>;
  if (m.v !== REWARD_MESSAGE_VERSION) return { ok: false, errors: [`unsupported message version ${JSON.stringify(m.v)}`] };
  const errors: string[] = [];
  if (m.type !== REWARD_MESSAGE_TYPE) errors.push(`type must be "${REWARD_MESSAGE_TYPE}"`);
  if (typeof m.id !== "string" || !ID_PATTERN.test(m.id)) errors.push("id must be 1-128 of [A-Za-z0-9_-]");
  if (!isWalletAddress(m.walletAddress)) errors.push("walletAddress must be a base58 ed25519 public key");
  if (typeof m.deviceId !== "string" || !TOKEN_PATTERN.test(m.deviceId)) errors.push("deviceId must be 1-128 printable characters");
  if (typeof m.siteId !== "string" || !TOKEN_PATTERN.test(m.siteId)) errors.push("siteId must be 1-128 printable characters");
  if (!isAmount(m.earned)) errors.push("earned must be a positive integer string");
  if (typeof m.trustScore !== "number" || !(m.trustScore >= 0 && m.trustScore <= 1)) errors.push("trustScore must be a number in [0, 1]");
  for (const field of ["occurredAt", "receivedAt"] as const) {
    const value = m[field];
    if (typeof value !== "string" || !ISO_INSTANT.test(value) || Number.isNaN(Date.parse(value))) errors.push(`${field} must be an ISO-8601 UTC instant`);
  }
  const known = new Set(["v", "type", "id", "walletAddress", "deviceId", "siteId", "earned", "trustScore", "occurredAt", "receivedAt"]);
  for (const key of Object.keys(m)) if (!known.has(key)) errors.push(`unknown field ${key}`);
  return errors.length ? { ok: false, errors } : { ok: true, value: m as unknown as RewardMessageV1 };
}

/** Body of POST /internal/v1/rewards. Items are validated one by one, so one bad item never blocks the rest. */
export interface RewardDeliveryRequest {
  messages: unknown[];
}

/**
 * Per-message outcome. The consumer acks `credited`, `duplicate` and `rejected` (rejected is permanent
 * and is also copied to the dead-letter queue), and retries `failed`.
 */
export type RewardDeliveryStatus = "credited" | "duplicate" | "rejected" | "failed";

export interface RewardDeliveryResult {
  id: string | null;
  status: RewardDeliveryStatus;
  code?: string;
  message?: string;
}

export interface RewardDeliveryResponse {
  results: RewardDeliveryResult[];
}

export function validateDeliveryResponse(input: unknown, expectedCount: number): Validation<RewardDeliveryResponse> {
  const statuses = new Set<RewardDeliveryStatus>(["credited", "duplicate", "rejected", "failed"]);
  const results = (input as { results?: unknown } | null)?.results;
  if (!Array.isArray(results) || results.length !== expectedCount) {
    return { ok: false, errors: [`results must be an array of ${expectedCount} items`] };
  }
  for (const r of results) {
    if (typeof r !== "object" || r === null || !statuses.has((r as RewardDeliveryResult).status)) {
      return { ok: false, errors: ["each result needs a known status"] };
    }
  }
  return { ok: true, value: { results: results as RewardDeliveryResult[] } };
}
