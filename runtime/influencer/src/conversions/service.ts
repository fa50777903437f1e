// Conversion booking: idempotent on orderId, attributed by the configured model, commission by the
// pure rule in commission.ts, and the commission hook (the ledger's distribution) called in the same transaction.
import { createHash } from "node:crypto";
import { QueryTypes, type Sequelize } from "sequelize";
import { ApiError, conflict } from "@twist/shared/errors";
import { formatAmount } from "@twist/shared/amount";
import type { AttributionModel } from "../config";
import { toBigInt } from "../db";
import { attribute } from "./attribution";
import { commissionRate, computeCommission } from "./commission";
import type { OnCommissionBooked } from "./types";

export interface ConversionInput {
  orderId: string;
  clickId?: string;
  linkCode?: string;
  amount: bigint;
  currency: string;
}

interface ConversionRow {
  id: string;
  order_id: string;
  request_hash: string;
  amount: string;
  currency: string;
  attribution: "last-click" | "first-click" | "unattributed";
  click_id: string | null;
  link_id: string | null;
  commission_bps: number | null;
  commission: string;
  occurred_at: Date;
  link_code: string | null;
}

export interface ConversionView {
  conversionId: string;
  orderId: string;
  status: "attributed" | "unattributed";
  attribution: "last-click" | "first-click" | null;
  clickId: string | null;
  linkCode: string | null;
  amount: string;
  currency: string;
  commissionBps: number | null;
  commission: string;
  occurredAt: string;
}

export function requestHash(input: ConversionInput): string {
  const canonical = JSON.stringify([input.orderId, input.clickId ?? null, input.linkCode ?? null, formatAmount(input.amount), input.currency]);
  return createHash("sha256").update(canonical).digest("hex");
}

function view(row: ConversionRow): ConversionView {
  const attributed = row.attribution !== "unattributed";
  return {
    conversionId: row.id,
    orderId: row.order_id,
    status: attributed ? "attributed" : "unattributed",
    attribution: attributed ? (row.attribution as AttributionModel) : null,
    clickId: row.click_id,
    linkCode: row.link_code,
    amount: formatAmount(toBigInt(row.amount)),
    currency: row.currency,
    commissionBps: row.commission_bps,
    commission: formatAmount(toBigInt(row.commission)),
    occurredAt: new Date(row.occurred_at).toISOString(),
  };
}

export interface ConversionServiceOptions {
  sequelize: Sequelize;
  model: AttributionModel;
  windowDays: number;
  defaultCommissionBps: number;
  now: () => Date;
  /** Makes clicks accepted but not yet written visible (they may still be in the Redis stream). */
  flushClicks: () => Promise<unknown>;
  onCommissionBooked?: OnCommissionBooked;
}

export class ConversionService {
  constructor(private readonly o: ConversionServiceOptions) {}

  /** Books a conversion once per orderId. `replayed` tells the caller the answer is a repeat. */
  async book(input: ConversionInput): Promise<{ conversion: ConversionView; replayed: boolean }> {
    const hash = requestHash(input);
    const earlier = await this.existing(input.orderId);
    if (earlier) return { conversion: this.replay(earlier, hash), replayed: true };

    const { sequelize } = this.o;
    // Clicks accepted before this request may still sit in the Redis stream: write them through so
    // attribution sees every one of them (cheap when the stream is empty).
    await this.o.flushClicks();
    const at = this.o.now();
    const booked = await sequelize.transaction(async (transaction) => {
      const hit = await attribute(sequelize, { clickId: input.clickId, linkCode: input.linkCode, at, model: this.o.model, windowDays: this.o.windowDays }, transaction);
      const rate = hit ? commissionRate(hit.linkCommissionBps, this.o.defaultCommissionBps) : null;
      const commission = hit && rate !== null ? computeCommission(input.amount, rate) : 0n;
      const [row] = await sequelize.query<ConversionRow>(
        `INSERT INTO conversions (order_id, request_hash, amount, currency, attribution, click_id, link_id, influencer_id, commission_bps, commission, occurred_at)
         VALUES (:orderId, :hash, :amount, :currency, :attribution, :clickId, :linkId, :influencerId, :rate, :commission, :at)
         ON CONFLICT (order_id) DO NOTHING
         RETURNING *, :linkCode::text AS link_code`,
        {
          replacements: {
            orderId: input.orderId,
            hash,
            amount: formatAmount(input.amount),
            currency: input.currency,
            attribution: hit ? this.o.model : "unattributed",
            clickId: hit?.clickId ?? null,
            linkId: hit?.linkId ?? null,
            influencerId: hit?.influencerId ?? null,
            rate,
            commission: formatAmount(commission),
            at,
            linkCode: hit?.linkCode ?? null,
          },
          type: QueryTypes.SELECT,
          transaction,
        },
      );
      // Lost a race with a concurrent request for the same order: it committed first.
      if (!row) return null;
      if (hit && commission > 0n && this.o.onCommissionBooked) {
        await this.o.onCommissionBooked(transaction, {
          conversionId: row.id,
          orderId: row.order_id,
          influencerId: hit.influencerId,
          linkId: hit.linkId,
          commission,
          currency: input.currency,
        });
      }
      return row;
    });
    if (booked) return { conversion: view(booked), replayed: false };
    const winner = await this.existing(input.orderId);
    if (!winner) throw new ApiError("INTERNAL", "conversion vanished after a conflict");
    return { conversion: this.replay(winner, hash), replayed: true };
  }

  private replay(row: ConversionRow, hash: string): ConversionView {
    if (row.request_hash !== hash) throw conflict("orderId was already reported with a different body", { reason: "ORDER_CONFLICT", orderId: row.order_id });
    return view(row);
  }

  private async existing(orderId: string): Promise<ConversionRow | null> {
    const [row] = await this.o.sequelize.query<ConversionRow>(
      `SELECT cv.*, l.code AS link_code FROM conversions cv LEFT JOIN links l ON l.id = cv.link_id WHERE cv.order_id = :orderId`,
      { replacements: { orderId }, type: QueryTypes.SELECT },
    );
    return row ?? null;
  }
}
