// GET /l/:code — the referral redirect. Answers a real 302 to the merchant URL with `twist_click=<id>`
// appended (the target's own query is kept). Counted clicks are made durable in Redis before the
// answer (one round trip); Postgres is written in batches by the ClickRecorder.
import { createHmac, randomUUID } from "node:crypto";
import { Router, type Request, type Response } from "express";
import { QueryTypes } from "sequelize";
import { clientIp, enforceRateLimit, redisOp } from "@twist/service";
import { notFound } from "@twist/shared/errors";
import type { AppContext } from "../app";
import { LINK_CODE_PATTERN } from "../links/code";
import { linkCacheKey } from "../links/service";
import { notCountedReason } from "./classify";
import type { ClickRecorder } from "./recorder";

export const CLICK_PARAM = "twist_click";

interface CachedLink {
  id: string;
  targetUrl: string;
  active: boolean;
  expiresAt: number | null;
}

const LINK_CACHE_SECONDS = 300;

/** HMAC-SHA256(IP_HASH_SALT, ...) — IPs are never stored in the clear. */
export function saltedHash(salt: string, value: string): string {
  return createHmac("sha256", salt).update(value).digest("hex");
}

/** The target with the click id appended, everything else (query, fragment) preserved. */
export function redirectTarget(targetUrl: string, clickId: string | null): string {
  if (!clickId) return targetUrl;
  const url = new URL(targetUrl);
  url.searchParams.append(CLICK_PARAM, clickId);
  return url.toString();
}

export function clicksRouter(ctx: AppContext, recorder: ClickRecorder): Router {
  const { config, redis, sequelize } = ctx;
  const router = Router();

  async function findLink(code: string): Promise<CachedLink | null> {
    const cached = await redis.get(linkCacheKey(code));
    if (cached) return JSON.parse(cached) as CachedLink;
    const [row] = await sequelize.query<{ id: string; target_url: string; active: boolean; expires_at: Date | null }>(
      `SELECT id, target_url, active, expires_at FROM links WHERE code = :code`,
      { replacements: { code }, type: QueryTypes.SELECT },
    );
    if (!row) return null;
    const link: CachedLink = { id: row.id, targetUrl: row.target_url, active: row.active, expiresAt: row.expires_at ? new Date(row.expires_at).getTime() : null };
    await redis.set(linkCacheKey(code), JSON.stringify(link), "EX", LINK_CACHE_SECONDS);
    return link;
  }

  const redirect = async (req: Request, res: Response) => {
    const code = String(req.params.code);
    if (!LINK_CODE_PATTERN.test(code)) throw notFound("no such link");
    const ip = clientIp(req, config.TRUSTED_PROXY_HEADER);
    const ipHash = saltedHash(config.IP_HASH_SALT, ip);
    await enforceRateLimit(redis, { name: "click-ip", limit: config.CLICK_RATE_LIMIT_PER_MINUTE, windowSeconds: 60 }, ipHash, res);
    const now = ctx.now();
    const link = await redisOp(() => findLink(code));
    if (!link || !link.active || (link.expiresAt !== null && link.expiresAt <= now.getTime())) throw notFound("no such link");

    let clickId: string | null = null;
    const reason = notCountedReason(req);
    if (reason === null) {
      const userAgent = req.get("user-agent") ?? "";
      const accepted = await redisOp(() =>
        recorder.accept({ id: randomUUID(), linkId: link.id, visitorHash: saltedHash(config.IP_HASH_SALT, `${ip}\n${userAgent}`), ipHash, occurredAt: now }),
      );
      clickId = accepted.clickId;
    }
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Referrer-Policy", "no-referrer-when-downgrade");
    res.redirect(302, redirectTarget(link.targetUrl, clickId));
  };

  router.get("/l/:code", redirect);
  return router;
}
