// GET /l/:code — the referral redirect, a front route of the service frame (served ahead of Express:
// @twist/service front-routes.ts). Answers a real 302 to the merchant URL with `twist_click=<id>`
// appended (the target's own query is kept). The link comes from this process's LinkCache; the
// rate limit, the link's gone marker and a counted click's dedupe and durable append are one Redis
// round trip (ClickRecorder.admit); Postgres is written in batches by the ClickRecorder.
import { createHmac, randomUUID } from "node:crypto";
import encodeUrl from "encodeurl";
import { applyRateLimit, clientIp, enforceRateLimit, type FrontRoute, rateLimitKey, rateLimitResult, redisOp, type RateLimitRule } from "@twist/service";
import { notFound } from "@twist/shared/errors";
import type { AppContext } from "../app";
import { LINK_CODE_PATTERN } from "../links/code";
import { notCountedReason } from "./classify";
import { LinkCache } from "./link-cache";

export const CLICK_PARAM = "twist_click";

/** HMAC-SHA256(IP_HASH_SALT, ...) — IPs are never stored in the clear. */
export function saltedHash(salt: string, value: string): string {
  return createHmac("sha256", salt).update(value).digest("hex");
}

/**
 * The target with the click id appended, everything else (the query byte for byte, the fragment)
 * preserved. targetUrl is a normalised href (checkTargetUrl), so its query starts at the first "?"
 * before the "#": string work, not a URL parse per redirect.
 */
export function redirectTarget(targetUrl: string, clickId: string | null): string {
  if (!clickId) return targetUrl;
  const hash = targetUrl.indexOf("#");
  const head = hash === -1 ? targetUrl : targetUrl.slice(0, hash);
  const separator = !head.includes("?") ? "?" : head.endsWith("?") ? "" : "&";
  return `${head}${separator}${CLICK_PARAM}=${clickId}${hash === -1 ? "" : targetUrl.slice(hash)}`;
}

export function clickRedirect(ctx: AppContext): FrontRoute {
  const { config, redis, sequelize, recorder } = ctx;
  const links = new LinkCache(sequelize, ctx.now);
  const rule: RateLimitRule = { name: "click-ip", limit: config.CLICK_RATE_LIMIT_PER_MINUTE, windowSeconds: 60 };

  return {
    path: "/l/:code",
    handler: async (req, res) => {
      const code = req.params.code ?? "";
      if (!LINK_CODE_PATTERN.test(code)) throw notFound("no such link");
      const ip = clientIp(req, config.TRUSTED_PROXY_HEADER);
      const ipHash = saltedHash(config.IP_HASH_SALT, ip);
      const now = ctx.now();
      const link = links.cached(code) ?? (await redisOp(() => links.fetch(code)));
      if (!link?.active || (link.expiresAt !== null && link.expiresAt <= now.getTime())) {
        // Misses count against the limit too, so codes cannot be probed unthrottled.
        await enforceRateLimit(redis, rule, ipHash, res);
        throw notFound("no such link");
      }
      const counted = notCountedReason(req) === null;
      const admitted = await redisOp(() =>
        recorder.admit({
          rateLimit: { key: rateLimitKey(rule, ipHash), windowMs: rule.windowSeconds * 1000, limit: rule.limit },
          linkId: link.id,
          click: counted
            ? { id: randomUUID(), linkId: link.id, visitorHash: saltedHash(config.IP_HASH_SALT, `${ip}\n${req.headers["user-agent"] ?? ""}`), ipHash, occurredAt: now }
            : null,
        }),
      );
      applyRateLimit(res, rule, rateLimitResult(rule, admitted.count, admitted.ttl));
      if (admitted.outcome === "gone") {
        links.evict(code);
        throw notFound("no such link");
      }
      // A bare 302 (no body): browsers follow the Location, encoded as Express's res.location does.
      res.writeHead(302, {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer-when-downgrade",
        Location: encodeUrl(redirectTarget(link.targetUrl, admitted.clickId)),
      });
      res.end();
    },
  };
}
