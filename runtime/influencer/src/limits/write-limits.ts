// Per-wallet write limits (contract 6: 429 RATE_LIMITED with Retry-After) on the writes a script
// could hammer: stake and unstake (one bucket), link creation, payout requests. Mounted ahead of the
// routers it guards, so their files stay as they are; it resolves the caller's identity (the routers'
// own requireIdentity then reuses it) and counts in the shared Redis fixed-window limiter.
import { Router } from "express";
import { rateLimit, type RateLimitRule } from "@twist/service";
import type { AppContext } from "../app";
import { identityOf } from "../identity";

export function writeLimitsRouter(ctx: AppContext): Router {
  const { config, redis, identity } = ctx;
  const windowSeconds = config.WRITE_LIMIT_WINDOW_SECONDS;
  const perWallet = (rule: RateLimitRule) => [identity.requireIdentity, rateLimit(redis, rule, (req) => identityOf(req).walletAddress)];
  const router = Router();
  const stakes = perWallet({ name: "stake-wallet", limit: config.STAKE_LIMIT_PER_WINDOW, windowSeconds });
  router.post("/api/v1/pools/:id/stake", ...stakes);
  router.post("/api/v1/pools/:id/unstake", ...stakes);
  router.post("/api/v1/links", ...perWallet({ name: "link-create-wallet", limit: config.LINK_LIMIT_PER_WINDOW, windowSeconds }));
  router.post("/api/v1/payouts", ...perWallet({ name: "payout-request-wallet", limit: config.PAYOUT_LIMIT_PER_WINDOW, windowSeconds }));
  return router;
}
