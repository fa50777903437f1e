// /api/v1/me: the caller's balances and stake positions (wallet from the verified JWT only).
import { Router } from "express";
import { formatAmount } from "@twist/shared/amount";
import type { AppContext } from "../app";
import { identityOf } from "../identity";

export function meRouter(ctx: AppContext): Router {
  const { ledger, pools } = ctx.money;
  const auth = ctx.identity;
  const router = Router();

  router.get("/api/v1/me/balance", auth.requireIdentity, async (req, res) => {
    const totals = { available: 0n, staked: 0n, claimable: 0n, pendingPayout: 0n };
    for (const a of await ledger.accountsOf(identityOf(req).walletAddress)) {
      if (a.kind === "available") totals.available += a.balance;
      else if (a.kind === "stake") totals.staked += a.balance;
      else if (a.kind === "pool_rewards") totals.claimable += a.balance;
      else if (a.kind === "payout_pending") totals.pendingPayout += a.balance;
    }
    const total = totals.available + totals.staked + totals.claimable + totals.pendingPayout;
    res.json({
      available: formatAmount(totals.available),
      staked: formatAmount(totals.staked),
      claimable: formatAmount(totals.claimable),
      pendingPayout: formatAmount(totals.pendingPayout),
      total: formatAmount(total),
    });
  });

  router.get("/api/v1/me/stakes", auth.requireIdentity, async (req, res) => {
    res.json({ stakes: await pools.stakesOf(identityOf(req).walletAddress) });
  });

  return router;
}
