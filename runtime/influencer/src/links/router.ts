// /api/v1/links: create, list and deactivate the caller's own referral links.
import { Router } from "express";
import { validate } from "@twist/service";
import type { AppContext } from "../app";
import { influencerIdOf } from "../identity";
import { codeParams, createLinkBody, listLinksQuery, type CreateLinkInput } from "./schemas";

export function linksRouter(ctx: AppContext): Router {
  const { links } = ctx;
  const { requireInfluencer } = ctx.identity;
  const router = Router();

  router.post("/api/v1/links", requireInfluencer, async (req, res) => {
    const input = validate<CreateLinkInput>(createLinkBody, req.body);
    res.status(201).json(await links.create(influencerIdOf(req), input));
  });

  router.get("/api/v1/links", requireInfluencer, async (req, res) => {
    const q = validate<{ limit: number; offset: number; active?: boolean }>(listLinksQuery, req.query);
    res.json(await links.list(influencerIdOf(req), q));
  });

  router.post("/api/v1/links/:code/deactivate", requireInfluencer, async (req, res) => {
    const { code } = validate<{ code: string }>(codeParams, req.params);
    res.json(await links.deactivate(influencerIdOf(req), code));
  });

  return router;
}
