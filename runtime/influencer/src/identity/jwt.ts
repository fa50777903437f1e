// Contract 1 through express-jwt: HS256 pinned, iss/aud required, 30 s clock tolerance, the secret
// chosen by the token's `kid` from the JWT_KEYS key set. Every failure becomes the 401 envelope with
// the same reason codes the shared verifier uses (details.reason).
import type { NextFunction, Request, Response } from "express";
import { expressjwt, UnauthorizedError } from "express-jwt";
import jsonwebtoken from "jsonwebtoken";
import { ApiError, unauthorized } from "@twist/shared/errors";
import { JWT_AUDIENCE, JWT_CLOCK_TOLERANCE_SECONDS, JWT_ISSUER, type JwtFailure } from "@twist/shared/jwt";
import type { JwtKeySet } from "@twist/shared/keys";
import { isWalletAddress } from "@twist/shared/wallet";

export interface VerifiedToken {
  sub: string;
  walletAddress?: string;
  iat?: number;
  exp: number;
  jti?: string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified JWT payload, set by express-jwt. */
      auth?: VerifiedToken;
    }
  }
}

class TokenRefused extends Error {
  constructor(readonly reason: JwtFailure, message: string) {
    super(message);
  }
}

function reasonOf(err: unknown): { reason: JwtFailure; message: string } {
  if (err instanceof TokenRefused) return { reason: err.reason, message: err.message };
  const inner = err instanceof UnauthorizedError ? err.inner : err;
  if (inner instanceof TokenRefused) return { reason: inner.reason, message: inner.message };
  if (inner instanceof jsonwebtoken.TokenExpiredError) return { reason: "TOKEN_EXPIRED", message: "token has expired" };
  if (inner instanceof jsonwebtoken.NotBeforeError) return { reason: "TOKEN_NOT_YET_VALID", message: "token is not valid yet" };
  const message = inner instanceof Error ? inner.message : "";
  if (/audience/.test(message)) return { reason: "TOKEN_AUDIENCE", message: "token audience is not twist-api" };
  if (/issuer/.test(message)) return { reason: "TOKEN_ISSUER", message: "token issuer is not twist-auth" };
  if (/algorithm/.test(message)) return { reason: "TOKEN_ALGORITHM", message: "only HS256 tokens are accepted" };
  if (/invalid signature|signature is required/.test(message)) return { reason: "TOKEN_SIGNATURE", message: "token signature does not verify" };
  return { reason: "TOKEN_MALFORMED", message: "token is malformed" };
}

/**
 * Verifies `Authorization: Bearer <JWT>` and sets `req.auth`. `clockTimestamp` (Unix seconds) pins
 * "now" for the contract vectors; production leaves it unset.
 */
export function verifyJwt(keySet: JwtKeySet, options: { clockTimestamp?: number } = {}) {
  const middleware = expressjwt({
    algorithms: ["HS256"],
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
    clockTolerance: JWT_CLOCK_TOLERANCE_SECONDS,
    credentialsRequired: true,
    ...(options.clockTimestamp !== undefined ? { clockTimestamp: options.clockTimestamp } : {}),
    secret: (_req, token) => {
      const kid = token?.header.kid;
      if (!token || token.header.alg !== "HS256") throw new TokenRefused("TOKEN_ALGORITHM", "only HS256 tokens are accepted");
      if (typeof kid !== "string") throw new TokenRefused("TOKEN_KID", "token has no kid");
      if (!Object.hasOwn(keySet.keys, kid)) throw new TokenRefused("TOKEN_KID", "token kid is not in the key set");
      return keySet.keys[kid]!;
    },
  });
  const now = () => options.clockTimestamp ?? Math.floor(Date.now() / 1000);

  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.get("authorization")) return next(unauthorized("a bearer token is required", { reason: "TOKEN_MISSING" }));
    void middleware(req, res, (err?: unknown) => {
      if (err) {
        if (err instanceof ApiError) return next(err);
        const { reason, message } = reasonOf(err);
        return next(unauthorized(message, { reason }));
      }
      const claims = req.auth as unknown as Record<string, unknown> | undefined;
      const refused = checkClaims(claims, now());
      if (refused) return next(unauthorized(refused.message, { reason: refused.reason }));
      next();
    }).catch((err: unknown) => {
      const { reason, message } = reasonOf(err);
      next(unauthorized(message, { reason }));
    });
  };
}

/** What jsonwebtoken does not require by itself: exp, a wallet `sub`, a consistent walletAddress. */
function checkClaims(claims: Record<string, unknown> | undefined, now: number): TokenRefused | null {
  if (!claims) return new TokenRefused("TOKEN_MALFORMED", "token has no payload");
  if (typeof claims.sub !== "string" || claims.sub === "") return new TokenRefused("TOKEN_CLAIMS", "token has no sub");
  if (!isWalletAddress(claims.sub)) return new TokenRefused("TOKEN_CLAIMS", "token sub is not a wallet address");
  if (typeof claims.exp !== "number") return new TokenRefused("TOKEN_CLAIMS", "token has no exp");
  if (claims.walletAddress !== undefined && claims.walletAddress !== claims.sub) return new TokenRefused("TOKEN_CLAIMS", "walletAddress differs from sub");
  if (typeof claims.iat === "number" && now + JWT_CLOCK_TOLERANCE_SECONDS < claims.iat) return new TokenRefused("TOKEN_NOT_YET_VALID", "token was issued in the future");
  return null;
}

/**
 * The same verifier for a token that arrives outside an Authorization header (the events WebSocket):
 * resolves with the verified claims, or rejects with the same 401 ApiError an HTTP route answers.
 */
export function tokenVerifier(keySet: JwtKeySet, options: { clockTimestamp?: number } = {}): (token: string) => Promise<VerifiedToken> {
  const middleware = verifyJwt(keySet, options);
  return (token) =>
    new Promise((resolve, reject) => {
      const authorization = `Bearer ${token}`;
      const req = { method: "GET", headers: { authorization }, get: (name: string) => (name.toLowerCase() === "authorization" ? authorization : undefined) };
      middleware(req as unknown as Request, {} as Response, (err?: unknown) => (err ? reject(err) : resolve((req as unknown as Request).auth!)));
    });
}
