// What both ingest routes check before a VAU is looked at: the bearer token (contract 1), the body
// size, the request signature (contract 3) and the JSON.
import { unauthorized, validationError } from "@twist/shared/errors";
import { bearerToken, JwtError, verifyIdentityToken } from "@twist/shared/jwt";
import { verifySignedRequest } from "@twist/shared/signed-request";
import { fromUtf8 } from "@twist/shared/encoding";
import type { EdgeConfig } from "./config";

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
  const declared = request.headers.get("content-length");
  if (Number(declared ?? "0") > limit) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  // A declared length (without chunking) bounds what the HTTP layer delivers: one native read, no
  // stream loop. The size is still checked after it.
  if (declared !== null && !request.headers.has("transfer-encoding")) {
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > limit) throw tooLarge();
    return body;
  }
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
