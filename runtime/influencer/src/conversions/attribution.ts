// Attribution: which counted click (if any) a conversion belongs to.
//
// With a clickId, the visitor behind that click is known (its salted visitor hash); the candidates
// are that visitor's counted clicks, on any link, in [conversion time - window, conversion time].
// With a linkCode only, the candidates are that link's counted clicks in the same window.
// last-click picks the latest candidate, first-click the earliest. No candidate: unattributed.
import { QueryTypes, type Sequelize, type Transaction } from "sequelize";
import type { AttributionModel } from "../config";

export interface Attributed {
  clickId: string;
  linkId: string;
  linkCode: string;
  influencerId: string;
  linkCommissionBps: number | null;
}

export interface AttributionQuery {
  clickId?: string;
  linkCode?: string;
  at: Date;
  model: AttributionModel;
  windowDays: number;
}

export async function attribute(sequelize: Sequelize, q: AttributionQuery, transaction?: Transaction): Promise<Attributed | null> {
  const from = new Date(q.at.getTime() - q.windowDays * 86_400_000);
  const order = q.model === "first-click" ? "ASC" : "DESC";
  const scope = q.clickId ? `c.visitor_hash = (SELECT visitor_hash FROM clicks WHERE id = :clickId)` : `c.link_id = (SELECT id FROM links WHERE code = :linkCode)`;
  const [row] = await sequelize.query<{ click_id: string; link_id: string; code: string; influencer_id: string; commission_bps: number | null }>(
    `SELECT c.id AS click_id, l.id AS link_id, l.code, l.influencer_id, l.commission_bps
     FROM clicks c JOIN links l ON l.id = c.link_id
     WHERE ${scope} AND c.occurred_at >= :from AND c.occurred_at <= :at
     ORDER BY c.occurred_at ${order}, c.id ${order}
     LIMIT 1`,
    { replacements: { clickId: q.clickId ?? null, linkCode: q.linkCode ?? null, from, at: q.at }, type: QueryTypes.SELECT, transaction },
  );
  return row ? { clickId: row.click_id, linkId: row.link_id, linkCode: row.code, influencerId: row.influencer_id, linkCommissionBps: row.commission_bps } : null;
}
