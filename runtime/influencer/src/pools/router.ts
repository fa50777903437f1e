// /api/v1/pools: create and administer (influencer), search and read (public), stake, unstake and
// claim (any signed-in wallet; Idempotency-Key required).
import { Router } from "express";
import { Joi } from "@twist/shared/config";
import { validateRequest } from "@twist/service";
import type { AppContext } from "../app";
import { influencerIdOf } from "../identity";
import { amountField, idempotentPost } from "../ledger/http";
import { POOL_SORTS } from "./read-model";
import type { PoolListQuery, PoolService } from "./service";
import { MAX_REVENUE_SHARE_BPS } from "./tiers";

const text = (max: number) => Joi.string().trim().max(max);

const createSchema = Joi.object({
  name: text(80).min(3).required(),
  description: text(500).allow("").default(""),
  revenueShareBps: Joi.number().integer().strict().min(0).max(MAX_REVENUE_SHARE_BPS).required(),
  minStake: amountField().required(),
}).required();

const updateSchema = Joi.object({
  name: text(80).min(3),
  description: text(500).allow(""),
  revenueShareBps: Joi.number().integer().strict().min(0).max(MAX_REVENUE_SHARE_BPS),
  minStake: amountField(),
})
  .min(1)
  .required();

const listSchema = Joi.object<PoolListQuery>({
  q: text(100).allow("").empty(""),
  sort: Joi.string()
    .valid(...Object.keys(POOL_SORTS))
    .default("total_staked"),
  limit: Joi.number().integer().min(1).max(100).default(20),
  cursor: Joi.string().max(512),
});

const amountSchema = Joi.object({ amount: amountField().required() }).required();
const claimSchema = Joi.object({ amount: amountField() });

export function poolsRouter(ctx: AppContext): Router {
  const { pools } = ctx.money;
  const { sequelize, identity: auth } = ctx;
  const cacheSeconds = ctx.config.POOL_CACHE_TTL_SECONDS;
  const router = Router();
  // Public search and reads are the same for everyone and already cached server-side for this long.
  const publicCache = `public, max-age=${cacheSeconds}`;

  router.post("/api/v1/pools", auth.requireInfluencer, validateRequest({ body: createSchema }), async (req, res) => {
    const body = req.valid.body as Parameters<PoolService["create"]>[1];
    res.status(201).json({ pool: await pools.create(influencerIdOf(req), body) });
  });

  router.patch("/api/v1/pools/:id", auth.requireInfluencer, validateRequest({ body: updateSchema }), async (req, res) => {
    const body = req.valid.body as Parameters<PoolService["update"]>[2];
    res.json({ pool: await pools.update(influencerIdOf(req), String(req.params.id), body) });
  });

  router.get("/api/v1/pools", validateRequest({ query: listSchema }), async (req, res) => {
    const page = await pools.list(req.valid.query as PoolListQuery);
    res.setHeader("Cache-Control", publicCache);
    res.json(page);
  });

  router.get("/api/v1/pools/:id", async (req, res) => {
    const pool = await pools.get(String(req.params.id));
    res.setHeader("Cache-Control", publicCache);
    res.json({ pool });
  });

  for (const op of ["stake", "unstake"] as const) {
    router.post(`/api/v1/pools/:id/${op}`, auth.requireIdentity, validateRequest({ body: amountSchema }), async (req, res) => {
      const { amount } = req.valid.body as { amount: bigint };
      await idempotentPost(sequelize, req, res, async (t, wallet, opId) => ({
        status: 200,
        body: await pools[op](t, wallet, String(req.params.id), amount, opId),
      }));
      await pools.cache.invalidate();
    });
  }

  router.post("/api/v1/pools/:id/claim", auth.requireIdentity, validateRequest({ body: claimSchema }), async (req, res) => {
    const { amount } = req.valid.body as { amount?: bigint };
    await idempotentPost(sequelize, req, res, async (t, wallet, opId) => ({
      status: 200,
      body: await pools.claim(t, wallet, String(req.params.id), amount ?? null, opId),
    }));
  });

  return router;
}
