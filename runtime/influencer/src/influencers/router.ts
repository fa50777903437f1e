// /api/v1/influencers: register, own profile, email verification, public profile.
import { Router } from "express";
import { clientIp, rateLimit, validateRequest } from "@twist/service";
import type { AppContext } from "../app";
import { saltedHash } from "../clicks/redirect";
import { identityOf, influencerIdOf } from "../identity";
import { registerBody, updateBody, usernameParams, verifyEmailBody, type RegisterInput } from "./schemas";
import { InfluencerService } from "./service";

export function influencersRouter(ctx: AppContext): Router {
  const { requireIdentity, requireInfluencer } = ctx.identity;
  const service = new InfluencerService({
    sequelize: ctx.sequelize,
    mailer: ctx.mailer,
    publicBaseUrl: ctx.config.PUBLIC_BASE_URL,
    tokenTtlMinutes: ctx.config.EMAIL_TOKEN_TTL_MINUTES,
    now: ctx.now,
  });
  const router = Router();

  router.post("/api/v1/influencers", requireIdentity, validateRequest({ body: registerBody }), async (req, res) => {
    const input = req.valid.body as RegisterInput;
    const identity = identityOf(req);
    const profile = await service.register(identity.userId, input);
    await ctx.identityStore.invalidate(identity.walletAddress);
    res.status(201).json(profile);
  });

  router.get("/api/v1/influencers/me", requireInfluencer, async (req, res) => {
    res.json(await service.getOwn(influencerIdOf(req)));
  });

  router.patch("/api/v1/influencers/me", requireInfluencer, validateRequest({ body: updateBody }), async (req, res) => {
    const input = req.valid.body as { displayName?: string; email?: string };
    res.json(await service.update(influencerIdOf(req), input));
  });

  router.post(
    "/api/v1/influencers/me/email-verification",
    requireInfluencer,
    rateLimit(ctx.redis, { name: "email-verification", limit: 5, windowSeconds: 3600 }, (req) => influencerIdOf(req)),
    async (req, res) => {
      await service.resendVerification(influencerIdOf(req));
      res.status(202).json({ status: "sent" });
    },
  );

  // The token is the credential: it arrives by email and works once. Limited per client IP (behind
  // the proxy the socket address is the proxy's, which would make one bucket for everybody), keyed
  // on its salted hash like the click limiter: no raw IP is written to Redis.
  router.post(
    "/api/v1/influencers/verify-email",
    rateLimit(ctx.redis, { name: "verify-email-ip", limit: 30, windowSeconds: 600 }, (req) => saltedHash(ctx.config.IP_HASH_SALT, clientIp(req, ctx.config.TRUSTED_PROXY_HEADER))),
    validateRequest({ body: verifyEmailBody }),
    async (req, res) => {
      const { token } = req.valid.body as { token: string };
      res.json(await service.verifyEmail(token));
    },
  );

  router.get("/api/v1/influencers/:username", validateRequest({ params: usernameParams }), async (req, res) => {
    const { username } = req.valid.params as { username: string };
    res.json(await service.getPublic(username));
  });

  return router;
}
