// Contract 1 as middleware: the route accepts only a valid `Authorization: Bearer <JWT>` and sets
// `req.auth` to its claims. The parsing and verification are runtime/shared's, the same code the
// edge runs; this file only maps a refusal to the 401 envelope (details.reason) with RFC 6750's
// WWW-Authenticate challenge.
import type { NextFunction, Request, Response } from "express";
import { ApiError } from "@twist/shared/errors";
import { type IdentityClaims, JwtError, verifyAuthorization } from "@twist/shared/jwt";
import type { JwtKeySet } from "@twist/shared/keys";

declare global {
  namespace Express {
    interface Request {
      /** The verified JWT claims, set by requireBearer. */
      auth?: IdentityClaims;
    }
  }
}

export interface BearerOptions {
  /** "Now" in Unix seconds; the contract vectors pin it, production leaves it unset. */
  now?: () => number;
}

export function bearerRefused(err: JwtError): ApiError {
  const challenge = err.reason === "TOKEN_MISSING" ? 'Bearer realm="twist"' : 'Bearer realm="twist", error="invalid_token"';
  return new ApiError("UNAUTHORIZED", err.message, { details: { reason: err.reason }, headers: { "WWW-Authenticate": challenge } });
}

export function requireBearer(keySet: JwtKeySet, options: BearerOptions = {}) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    try {
      req.auth = await verifyAuthorization(req.get("authorization"), keySet, options.now ? { now: options.now() } : {});
      next();
    } catch (err) {
      next(err instanceof JwtError ? bearerRefused(err) : err);
    }
  };
}
