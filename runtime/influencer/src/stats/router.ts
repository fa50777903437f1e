// GET /api/v1/links/:code/stats — the owner's numbers per UTC day: clicks (counted), unique clicks
// (distinct visitors), attributed conversions, revenue and commission (per currency, base-unit strings).
import { Router } from "express";
import Joi from "joi";
import { QueryTypes, type Sequelize } from "sequelize";
import { validate } from "@twist/service";
import { validationError } from "@twist/shared/errors";
import type { AppContext } from "../app";
import { influencerIdOf } from "../identity";
import { codeParams } from "../links/schemas";

const MAX_DAYS = 366;
const day = Joi.string().pattern(/^\d{4}-\d{2}-\d{2}$/).messages({ "string.pattern.base": "must be a date YYYY-MM-DD" });
const statsQuery = Joi.object({ from: day, to: day });

type Money = Record<string, string>;

export interface DayStats {
  date: string;
  clicks: number;
  uniqueClicks: number;
  conversions: number;
  revenue: Money;
  commission: Money;
}

export interface LinkStats {
  code: string;
  from: string;
  to: string;
  totals: Omit<DayStats, "date">;
  days: DayStats[];
}

const dateOf = (d: Date) => d.toISOString().slice(0, 10);

function parseDay(value: string, field: string): Date {
  const d = new Date(`${value}T00:00:00.000Z`);
  if (Number.isNaN(d.getTime()) || dateOf(d) !== value) throw validationError("request is invalid", [{ field, message: "is not a calendar date" }]);
  return d;
}

export async function linkStats(sequelize: Sequelize, link: { id: string; code: string }, from: Date, to: Date): Promise<LinkStats> {
  const end = new Date(to.getTime() + 86_400_000);
  const replacements = { linkId: link.id, from, end };
  const clickRows = await sequelize.query<{ day: string; clicks: string; unique_clicks: string }>(
    `SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) AS clicks, count(DISTINCT visitor_hash) AS unique_clicks
     FROM clicks WHERE link_id = :linkId AND occurred_at >= :from AND occurred_at < :end GROUP BY 1`,
    { replacements, type: QueryTypes.SELECT },
  );
  const [uniqueTotal] = await sequelize.query<{ n: string }>(
    `SELECT count(DISTINCT visitor_hash) AS n FROM clicks WHERE link_id = :linkId AND occurred_at >= :from AND occurred_at < :end`,
    { replacements, type: QueryTypes.SELECT },
  );
  const conversionRows = await sequelize.query<{ day: string; currency: string; conversions: string; revenue: string; commission: string }>(
    `SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, currency, count(*) AS conversions, sum(amount) AS revenue, sum(commission) AS commission
     FROM conversions WHERE link_id = :linkId AND occurred_at >= :from AND occurred_at < :end GROUP BY 1, 2`,
    { replacements, type: QueryTypes.SELECT },
  );

  const days: DayStats[] = [];
  const byDay = new Map<string, DayStats>();
  for (let t = from.getTime(); t < end.getTime(); t += 86_400_000) {
    const d: DayStats = { date: dateOf(new Date(t)), clicks: 0, uniqueClicks: 0, conversions: 0, revenue: {}, commission: {} };
    days.push(d);
    byDay.set(d.date, d);
  }
  const totals: Omit<DayStats, "date"> = { clicks: 0, uniqueClicks: Number(uniqueTotal?.n ?? 0), conversions: 0, revenue: {}, commission: {} };
  const add = (money: Money, currency: string, value: string) => {
    money[currency] = (BigInt(money[currency] ?? "0") + BigInt(value)).toString();
  };
  for (const r of clickRows) {
    const d = byDay.get(r.day);
    if (!d) continue;
    d.clicks = Number(r.clicks);
    d.uniqueClicks = Number(r.unique_clicks);
    totals.clicks += d.clicks;
  }
  for (const r of conversionRows) {
    const d = byDay.get(r.day);
    if (!d) continue;
    d.conversions += Number(r.conversions);
    totals.conversions += Number(r.conversions);
    for (const m of [d, totals]) {
      add(m.revenue, r.currency, r.revenue);
      add(m.commission, r.currency, r.commission);
    }
  }
  return { code: link.code, from: dateOf(from), to: dateOf(to), totals, days };
}

export function statsRouter(ctx: AppContext): Router {
  const { links } = ctx;
  const router = Router();
  router.get("/api/v1/links/:code/stats", ctx.identity.requireInfluencer, async (req, res) => {
    const { code } = validate<{ code: string }>(codeParams, req.params);
    const q = validate<{ from?: string; to?: string }>(statsQuery, req.query);
    const today = new Date(`${dateOf(ctx.now())}T00:00:00.000Z`);
    const to = q.to ? parseDay(q.to, "to") : today;
    const from = q.from ? parseDay(q.from, "from") : new Date(to.getTime() - 29 * 86_400_000);
    if (from > to) throw validationError("request is invalid", [{ field: "from", message: "must not be after to" }]);
    if ((to.getTime() - from.getTime()) / 86_400_000 + 1 > MAX_DAYS) throw validationError("request is invalid", [{ field: "from", message: `range must not exceed ${MAX_DAYS} days` }]);
    const link = await links.own(influencerIdOf(req), code);
    res.json(await linkStats(ctx.sequelize, link, from, to));
  });
  return router;
}
