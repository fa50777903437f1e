// The identity middlewares every authenticated route uses. The wallet comes only from the verified
// JWT; user and influencer ids come only from the lookup, never from the body or query.
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { type ApiError, forbidden, unauthorized } from "@twist/shared/errors";
import type { JwtKeySet } from "@twist/shared/keys";
import { bearerRefused, requireBearer } from "@twist/service";
import { type IdentityClaims, JwtError, verifyIdentityToken } from "@twist/shared/jwt";
import type { IdentityStore } from "./store";

export interface Identity {
  walletAddress: string;
  userId: string;
  /** Set by requireInfluencer. */
  influencerId?: string;
}

declare global {
  namespace Express {
    interface Request {
      identity?: Identity;
    }
  }
}

export interface IdentityMiddlewares {
  /** One middleware: `router.get(path, requireIdentity, handler)`. Verified JWT -> req.identity {walletAddress, userId} (user created on first use). */
  requireIdentity: RequestHandler;
  /** As requireIdentity, plus req.identity.influencerId, or 403 FORBIDDEN (details.reason NOT_REGISTERED). */
  requireInfluencer: RequestHandler;
  /** The same JWT check for a token that came another way (the events WebSocket); rejects with the 401 ApiError. */
  verifyToken(token: string): Promise<IdentityClaims>;
}

export function notRegistered(): ApiError {
  return forbidden("register as an influencer first (POST /api/v1/influencers)", { reason: "NOT_REGISTERED" });
}

export function createIdentityMiddlewares(keySet: JwtKeySet, store: IdentityStore, options: { clockTimestamp?: number } = {}): IdentityMiddlewares {
  const clock = options.clockTimestamp;
  const jwt = requireBearer(keySet, clock === undefined ? {} : { now: () => clock });
  const resolveUser = async (req: Request): Promise<Identity> => {
    const walletAddress = req.auth!.sub;
    const mapping = await store.resolve(walletAddress);
    req.identity = { walletAddress, userId: mapping.userId, ...(mapping.influencerId ? { influencerId: mapping.influencerId } : {}) };
    return req.identity;
  };
  const resolveInfluencer = async (identity: Identity): Promise<void> => {
    if (identity.influencerId) return;
    // A cached "not registered" may predate a registration on another replica: ask Postgres.
    const fresh = await store.load(identity.walletAddress);
    if (!fresh.influencerId) throw notRegistered();
    identity.influencerId = fresh.influencerId;
  };
  const chain =
    (withInfluencer: boolean): RequestHandler =>
    (req: Request, res: Response, next: NextFunction) => {
      // Already resolved for this request (a limiter mounted ahead of the route ran it): reuse it.
      if (req.identity && (!withInfluencer || req.identity.influencerId)) return next();
      void jwt(req, res, (err?: unknown) => {
        if (err) return next(err);
        resolveUser(req)
          .then((identity) => (withInfluencer ? resolveInfluencer(identity) : undefined))
          .then(() => next(), next);
      });
    };
  return {
    requireIdentity: chain(false),
    requireInfluencer: chain(true),
    verifyToken: (token) =>
      verifyIdentityToken(token, keySet, clock === undefined ? {} : { now: clock }).catch((err: unknown) => {
        throw err instanceof JwtError ? bearerRefused(err) : err;
      }),
  };
}

/** The identity set by requireIdentity (401 if a route forgot the middleware). */
export function identityOf(req: Request): Identity {
  if (!req.identity) throw unauthorized("authentication required");
  return req.identity;
}

/** The influencer id set by requireInfluencer. */
export function influencerIdOf(req: Request): string {
  const id = identityOf(req).influencerId;
  if (!id) throw notRegistered();
  return id;
}

export { IdentityStore, type IdentityMapping } from "./store";
export type { IdentityClaims as VerifiedToken } from "@twist/shared/jwt";
