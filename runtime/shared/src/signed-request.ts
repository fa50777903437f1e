// Contract 3: HMAC-SHA256 request signatures on WebCrypto, shared by the edge Worker, its clients and
// the backend.
import { bytesEqual, fromHex, hmacSha256, sha256Hex, toHex, utf8 } from "./encoding";

export const SIGNATURE_HEADER = "x-signature";
export const TIMESTAMP_HEADER = "x-timestamp";
export const SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;

export type SignatureFailure = "SIGNATURE_MISSING" | "SIGNATURE_MALFORMED" | "TIMESTAMP_MISSING" | "TIMESTAMP_MALFORMED" | "TIMESTAMP_SKEW" | "SIGNATURE_MISMATCH";

export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure; message: string };

export interface SignableRequest {
  method: string;
  /** The request target as sent: pathname plus query string. */
  target: string;
  timestamp: string;
  body: Uint8Array | string;
}

export async function canonicalString(req: SignableRequest): Promise<string> {
  const body = typeof req.body === "string" ? utf8(req.body) : req.body;
  return `v1\n${req.method.toUpperCase()}\n${req.target}\n${req.timestamp}\n${await sha256Hex(body)}`;
}

/** The `X-Signature` value for a request: `v1=<hex>` with the first (current) key. */
export async function signRequest(req: SignableRequest, key: string): Promise<string> {
  return `v1=${toHex(await hmacSha256(key, utf8(await canonicalString(req))))}`;
}

/** Both headers for a request signed now; what a client adds before sending. */
export async function signedHeaders(
  method: string,
  target: string,
  body: Uint8Array | string,
  key: string,
  now: number = Date.now(),
): Promise<{ "X-Timestamp": string; "X-Signature": string }> {
  const timestamp = String(now);
  return { "X-Timestamp": timestamp, "X-Signature": await signRequest({ method, target, timestamp, body }, key) };
}

export async function verifySignedRequest(
  req: { method: string; target: string; body: Uint8Array | string; timestamp: string | null; signature: string | null },
  keys: readonly string[],
  options: { now?: number; toleranceMs?: number } = {},
): Promise<SignatureCheck> {
  if (!req.signature) return fail("SIGNATURE_MISSING", "X-Signature header is required");
  if (!req.timestamp) return fail("TIMESTAMP_MISSING", "X-Timestamp header is required");
  if (!/^\d{1,16}$/.test(req.timestamp)) return fail("TIMESTAMP_MALFORMED", "X-Timestamp must be Unix milliseconds");
  const now = options.now ?? Date.now();
  if (Math.abs(now - Number(req.timestamp)) > (options.toleranceMs ?? SIGNATURE_TOLERANCE_MS)) {
    return fail("TIMESTAMP_SKEW", "X-Timestamp is outside the allowed clock skew");
  }
  const candidates: Uint8Array[] = [];
  for (const part of req.signature.trim().split(/ +/)) {
    const hex = part.startsWith("v1=") ? fromHex(part.slice(3)) : null;
    if (hex && hex.length === 32) candidates.push(hex);
  }
  if (candidates.length === 0 || candidates.length > 4) {
    return fail("SIGNATURE_MALFORMED", "X-Signature must hold 1-4 values of the form v1=<64 lowercase hex>");
  }
  const canonical = utf8(await canonicalString({ method: req.method, target: req.target, timestamp: req.timestamp, body: req.body }));
  for (const key of keys) {
    const expected = await hmacSha256(key, canonical);
    // Every candidate is compared so timing does not reveal which one matched.
    let matched = false;
    for (const candidate of candidates) matched = bytesEqual(expected, candidate) || matched;
    if (matched) return { ok: true };
  }
  return fail("SIGNATURE_MISMATCH", "X-Signature does not match the request");
}

function fail(reason: SignatureFailure, message: string): SignatureCheck {
  return { ok: false, reason, message };
}
