// /api/v1/links: create, list and deactivate the caller's own referral links.
import { Router } from "express";
import { validateRequest } from "@twist/service";
import type { AppContext } from "../app";
import { influencerIdOf } from "../identity";
import { codeParams, createLinkBody, listLinksQuery, type CreateLinkInput } from "./schemas";

export function linksRouter(ctx: AppContext): Router {
  const { links } = ctx;
  const { requireInfluencer } = ctx.identity;
  const router = Router();

  router.post("/api/v1/links", requireInfluencer, validateRequest({ body: createLinkBody }), async (req, res) => {
    const input = req.valid.body as CreateLinkInput;
    res.status(201).json(await links.create(influencerIdOf(req), input));
  });

  router.get("/api/v1/links", requireInfluencer, validateRequest({ query: listLinksQuery }), async (req, res) => {
    const q = req.valid.query as { limit: number; offset: number; active?: boolean };
    res.json(await links.list(influencerIdOf(req), q));
  });

  router.post("/api/v1/links/:code/deactivate", requireInfluencer, validateRequest({ params: codeParams }), async (req, res) => {
    const { code } = req.valid.params as { code: string };
    res.json(await links.deactivate(influencerIdOf(req), code));
  });

  return router;
}
