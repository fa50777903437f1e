// The VAU body (contract 4) and the batch envelope: field-by-field validation, nothing stored.
import { validationError } from "@twist/shared/errors";
import { MAX_DELIVERY_BATCH, TOKEN_PATTERN } from "@twist/shared/messages";
import type { EdgeConfig } from "./config";

export const MAX_ACTIVE_MS = 3_600_000;
export const MAX_PAYLOAD_BYTES = 2048;
/** A batch fits one backend delivery (contract 4). */
export const MAX_BATCH_ITEMS = MAX_DELIVERY_BATCH;

export interface VauInput {
  deviceId: string;
  siteId: string;
  timestamp: number;
  activeMs: number;
  payload?: Record<string, unknown>;
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
    throw validationError('body must be {"vaus": [...]}', [{ field: "vaus", message: "must be an array" }]);
  }
  const extra = Object.keys(input).filter((k) => k !== "vaus");
  if (extra.length)
    throw validationError(
      "unknown fields in batch body",
      extra.map((field) => ({ field, message: "is not an accepted field" })),
    );
  if (vaus.length < 1 || vaus.length > MAX_BATCH_ITEMS) {
    throw validationError(`vaus must hold 1-${MAX_BATCH_ITEMS} items`, [{ field: "vaus", message: `must hold 1-${MAX_BATCH_ITEMS} items` }]);
  }
  return vaus;
}
