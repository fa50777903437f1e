// Contract 1: HS256 identity tokens on WebCrypto, so auth (Node), influencer (Node) and edge (workerd)
// share one implementation.
import { fromBase64Url, fromUtf8, hmacKey, toBase64Url, utf8 } from "./encoding";
import type { JwtKeySet } from "./keys";
import { isWalletAddress } from "./wallet";

export const JWT_ISSUER = "twist-auth";
export const JWT_AUDIENCE = "twist-api";
export const JWT_ALGORITHM = "HS256";
export const JWT_TTL_SECONDS = 15 * 60;
export const JWT_CLOCK_TOLERANCE_SECONDS = 30;

export interface IdentityClaims {
  iss: string;
  aud: string;
  sub: string;
  walletAddress: string;
  iat: number;
  exp: number;
  jti: string;
}

/** Why a token was refused; all map to 401 UNAUTHORIZED, the reason goes in `details`. */
export type JwtFailure =
  | "TOKEN_MISSING"
  | "TOKEN_MALFORMED"
  | "TOKEN_ALGORITHM"
  | "TOKEN_KID"
  | "TOKEN_SIGNATURE"
  | "TOKEN_ISSUER"
  | "TOKEN_AUDIENCE"
  | "TOKEN_EXPIRED"
  | "TOKEN_NOT_YET_VALID"
  | "TOKEN_CLAIMS";

export class JwtError extends Error {
  constructor(
    readonly reason: JwtFailure,
    message: string,
  ) {
    super(message);
    this.name = "JwtError";
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function signIdentityToken(
  walletAddress: string,
  keySet: JwtKeySet,
  options: { now?: number; jti?: string; ttlSeconds?: number } = {},
): Promise<{ token: string; claims: IdentityClaims }> {
  const iat = options.now ?? nowSeconds();
  const claims: IdentityClaims = {
    iss: JWT_ISSUER,
    aud: JWT_AUDIENCE,
    sub: walletAddress,
    walletAddress,
    iat,
    exp: iat + (options.ttlSeconds ?? JWT_TTL_SECONDS),
    jti: options.jti ?? crypto.randomUUID(),
  };
  return { token: await signJwt(claims as unknown as Record<string, unknown>, keySet), claims };
}

/** Signs arbitrary claims with the current key. Tests use it to build hostile tokens. */
export async function signJwt(claims: Record<string, unknown>, keySet: JwtKeySet, header: Record<string, unknown> = {}): Promise<string> {
  const secret = keySet.keys[keySet.currentKid];
  if (secret === undefined) throw new Error("current kid is not in the key set");
  const head = { alg: JWT_ALGORITHM, typ: "JWT", kid: keySet.currentKid, ...header };
  const signingInput = `${encodeJson(head)}.${encodeJson(claims)}`;
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), utf8(signingInput));
  return `${signingInput}.${toBase64Url(new Uint8Array(signature))}`;
}

/** Verifies a token against the key set and returns its claims, or throws JwtError. */
export async function verifyIdentityToken(token: string, keySet: JwtKeySet, options: { now?: number } = {}): Promise<IdentityClaims> {
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError("TOKEN_MALFORMED", "token must have three parts");
  const [headPart, bodyPart, sigPart] = parts as [string, string, string];
  const header = decodeJson(headPart);
  if (header.alg !== JWT_ALGORITHM) throw new JwtError("TOKEN_ALGORITHM", "only HS256 tokens are accepted");
  if (typeof header.kid !== "string") throw new JwtError("TOKEN_KID", "token has no kid");
  const secret = Object.hasOwn(keySet.keys, header.kid) ? keySet.keys[header.kid] : undefined;
  if (secret === undefined) throw new JwtError("TOKEN_KID", "token kid is not in the key set");
  const signature = fromBase64Url(sigPart);
  if (!signature) throw new JwtError("TOKEN_MALFORMED", "signature is not base64url");
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, utf8(`${headPart}.${bodyPart}`));
  if (!valid) throw new JwtError("TOKEN_SIGNATURE", "token signature does not verify");

  const claims = decodeJson(bodyPart);
  const now = options.now ?? nowSeconds();
  if (claims.iss !== JWT_ISSUER) throw new JwtError("TOKEN_ISSUER", "token issuer is not twist-auth");
  const aud = claims.aud;
  if (!(aud === JWT_AUDIENCE || (Array.isArray(aud) && aud.includes(JWT_AUDIENCE)))) {
    throw new JwtError("TOKEN_AUDIENCE", "token audience is not twist-api");
  }
  if (typeof claims.sub !== "string" || claims.sub === "") throw new JwtError("TOKEN_CLAIMS", "token has no sub");
  // The wallet is the identity root: a sub that is not one identifies nobody.
  if (!isWalletAddress(claims.sub)) throw new JwtError("TOKEN_CLAIMS", "token sub is not a wallet address");
  if (typeof claims.exp !== "number") throw new JwtError("TOKEN_CLAIMS", "token has no exp");
  if (now > claims.exp + JWT_CLOCK_TOLERANCE_SECONDS) throw new JwtError("TOKEN_EXPIRED", "token has expired");
  if (typeof claims.nbf === "number" && now + JWT_CLOCK_TOLERANCE_SECONDS < claims.nbf) {
    throw new JwtError("TOKEN_NOT_YET_VALID", "token is not valid yet");
  }
  if (typeof claims.iat === "number" && now + JWT_CLOCK_TOLERANCE_SECONDS < claims.iat) {
    throw new JwtError("TOKEN_NOT_YET_VALID", "token was issued in the future");
  }
  if (claims.walletAddress !== undefined && claims.walletAddress !== claims.sub) {
    throw new JwtError("TOKEN_CLAIMS", "walletAddress differs from sub");
  }
  return claims as unknown as IdentityClaims;
}

// RFC 7235 2.1: the scheme is case-insensitive; RFC 6750 2.1: credentials = "Bearer" 1*SP b64token,
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". One credential only.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The token of an `Authorization: Bearer <token>` header value, or null (401 without verifying).
 * Every service parses the header here (vectors/authorization-header.json).
 */
export function bearerToken(header: string | null | undefined): string | null {
  const match = BEARER.exec(header ?? "");
  return match ? match[1]! : null;
}

/**
 * Contract 1 in one call: parses the Authorization header and verifies its token. A missing header
 * is TOKEN_MISSING, one that is not a single Bearer credential TOKEN_MALFORMED.
 */
export async function verifyAuthorization(header: string | null | undefined, keySet: JwtKeySet, options: { now?: number } = {}): Promise<IdentityClaims> {
  if (!header) throw new JwtError("TOKEN_MISSING", "an Authorization: Bearer token is required");
  const token = bearerToken(header);
  if (!token) throw new JwtError("TOKEN_MALFORMED", "Authorization must be Bearer <token>");
  return verifyIdentityToken(token, keySet, options);
}

function encodeJson(value: unknown): string {
  return toBase64Url(utf8(JSON.stringify(value)));
}

function decodeJson(part: string): Record<string, unknown> {
  const bytes = fromBase64Url(part);
  if (!bytes) throw new JwtError("TOKEN_MALFORMED", "token part is not base64url");
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new JwtError("TOKEN_MALFORMED", "token part is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new JwtError("TOKEN_MALFORMED", "token part is not a JSON object");
  }
  return value as Record<string, unknown>;
}
