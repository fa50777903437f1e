// Per-wallet write limits (contract 6: 429 RATE_LIMITED with Retry-After) on the writes a script
// could hammer: stake and unstake (one bucket), link creation, payout requests. Mounted ahead of the
// routers it guards, so their files stay as they are; it resolves the caller's identity (the routers'
// own requireIdentity then reuses it) and counts in the shared Redis fixed-window limiter.
// A retry of an idempotent money write whose answer is stored (same wallet, Idempotency-Key and
// request) is not counted: it changes nothing, and refusing it would hide the answer the client is
// retrying to learn. Anything else with a key (a first attempt, a different body) is counted.
import { type RequestHandler, Router } from "express";
import { rateLimit, type RateLimitRule } from "@twist/service";
import type { AppContext } from "../app";
import { identityOf } from "../identity";
import { isStoredReplay } from "../ledger/http";

export function writeLimitsRouter(ctx: AppContext): Router {
  const { config, redis, identity, sequelize } = ctx;
  const windowSeconds = config.WRITE_LIMIT_WINDOW_SECONDS;
  const limitOf = (rule: RateLimitRule) => rateLimit(redis, rule, (req) => identityOf(req).walletAddress);
  const unlessStoredReplay =
    (limit: RequestHandler): RequestHandler =>
    (req, res, next) => {
      isStoredReplay(sequelize, req).then((replay) => (replay ? next() : limit(req, res, next)), next);
    };
  const router = Router();
  const stakes = [identity.requireIdentity, unlessStoredReplay(limitOf({ name: "stake-wallet", limit: config.STAKE_LIMIT_PER_WINDOW, windowSeconds }))];
  router.post("/api/v1/pools/:id/stake", ...stakes);
  router.post("/api/v1/pools/:id/unstake", ...stakes);
  router.post("/api/v1/links", identity.requireIdentity, limitOf({ name: "link-create-wallet", limit: config.LINK_LIMIT_PER_WINDOW, windowSeconds }));
  router.post("/api/v1/payouts", identity.requireIdentity, unlessStoredReplay(limitOf({ name: "payout-request-wallet", limit: config.PAYOUT_LIMIT_PER_WINDOW, windowSeconds })));
  return router;
}
