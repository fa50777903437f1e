// Referral links: created only towards allow-listed merchant hosts, listed and deactivated by their
// owner. Another influencer's link answers 404, so codes cannot be probed for ownership.
import { QueryTypes, UniqueConstraintError, type Sequelize } from "sequelize";
import type Redis from "ioredis";
import { redisOp } from "@twist/service";
import { notFound, validationError } from "@twist/shared/errors";
import { markLinkGone } from "../clicks/link-cache";
import { newLinkCode } from "./code";
import type { CreateLinkInput } from "./schemas";

export interface LinkRow {
  id: string;
  influencer_id: string;
  code: string;
  target_url: string;
  product_id: string | null;
  promo_code: string | null;
  commission_bps: number | null;
  expires_at: Date | null;
  active: boolean;
  created_at: Date;
  deactivated_at: Date | null;
}

export interface LinkView {
  code: string;
  url: string;
  targetUrl: string;
  productId: string | null;
  promoCode: string | null;
  commissionBps: number;
  expiresAt: string | null;
  active: boolean;
  createdAt: string;
  deactivatedAt: string | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** True when `host` is an allow-listed merchant domain or a subdomain of one. */
export function isMerchantHost(host: string, domains: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return domains.some((d) => h === d || h.endsWith(`.${d}`));
}

/** Refuses URLs that are not http(s), carry credentials, or point outside the merchant allow-list. */
export function checkTargetUrl(raw: string, domains: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw validationError("request is invalid", [{ field: "targetUrl", message: "must be a valid URL" }]);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw validationError("request is invalid", [{ field: "targetUrl", message: "must be an http or https URL" }]);
  }
  if (url.username || url.password) {
    throw validationError("request is invalid", [{ field: "targetUrl", message: "must not contain credentials" }]);
  }
  if (!isMerchantHost(url.hostname, domains)) {
    throw validationError("request is invalid", [{ field: "targetUrl", message: "host is not an allowed merchant domain" }]);
  }
  return url.toString();
}

export class LinkService {
  constructor(
    private readonly o: {
      sequelize: Sequelize;
      redis: Redis;
      merchantDomains: readonly string[];
      publicBaseUrl: string;
      defaultCommissionBps: number;
      now: () => Date;
    },
  ) {}

  view(row: LinkRow): LinkView {
    return {
      code: row.code,
      url: new URL(`/l/${row.code}`, this.o.publicBaseUrl).toString(),
      targetUrl: row.target_url,
      productId: row.product_id,
      promoCode: row.promo_code,
      commissionBps: row.commission_bps ?? this.o.defaultCommissionBps,
      expiresAt: iso(row.expires_at),
      active: row.active,
      createdAt: iso(row.created_at)!,
      deactivatedAt: iso(row.deactivated_at),
    };
  }

  async create(influencerId: string, input: CreateLinkInput): Promise<LinkView> {
    const targetUrl = checkTargetUrl(input.targetUrl, this.o.merchantDomains);
    const now = this.o.now();
    if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) {
      throw validationError("request is invalid", [{ field: "expiresAt", message: "must be in the future" }]);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const [row] = await this.o.sequelize.query<LinkRow>(
          `INSERT INTO links (influencer_id, code, target_url, product_id, promo_code, expires_at, created_at)
           VALUES (:influencerId, :code, :targetUrl, :productId, :promoCode, :expiresAt, :now) RETURNING *`,
          {
            replacements: {
              influencerId,
              code: newLinkCode(),
              targetUrl,
              productId: input.productId ?? null,
              promoCode: input.promoCode ?? null,
              expiresAt: input.expiresAt ?? null,
              now,
            },
            type: QueryTypes.SELECT,
          },
        );
        return this.view(row!);
      } catch (err) {
        // A code collision (~2^-59 per pair) just draws again.
        if (err instanceof UniqueConstraintError && attempt < 4) continue;
        throw err;
      }
    }
  }

  async list(influencerId: string, q: { limit: number; offset: number; active?: boolean }): Promise<{ links: LinkView[]; limit: number; offset: number }> {
    const rows = await this.o.sequelize.query<LinkRow>(
      `SELECT * FROM links WHERE influencer_id = :influencerId ${q.active === undefined ? "" : "AND active = :active"}
       ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset`,
      { replacements: { influencerId, active: q.active ?? null, limit: q.limit, offset: q.offset }, type: QueryTypes.SELECT },
    );
    return { links: rows.map((r) => this.view(r)), limit: q.limit, offset: q.offset };
  }

  /** The caller's own link by code, or 404 (also when it belongs to someone else). */
  async own(influencerId: string, code: string): Promise<LinkRow> {
    const [row] = await this.o.sequelize.query<LinkRow>(`SELECT * FROM links WHERE code = :code AND influencer_id = :influencerId`, {
      replacements: { code, influencerId },
      type: QueryTypes.SELECT,
    });
    if (!row) throw notFound("no such link");
    return row;
  }

  async deactivate(influencerId: string, code: string): Promise<LinkView> {
    const [row] = await this.o.sequelize.query<LinkRow>(
      `UPDATE links SET active = false, deactivated_at = COALESCE(deactivated_at, :now)
       WHERE code = :code AND influencer_id = :influencerId RETURNING *`,
      { replacements: { code, influencerId, now: this.o.now() }, type: QueryTypes.SELECT },
    );
    if (!row) throw notFound("no such link");
    // Redirects cache links in memory on every instance; the marker stops them at once
    // (clicks/link-cache.ts). If Redis is down this answers 503 and a retry (idempotent) finishes the job.
    await redisOp(() => markLinkGone(this.o.redis, row.id));
    return this.view(row);
  }
}
