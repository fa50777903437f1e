// HourlyAggregator: one object ("global") with totals per UTC hour of the event time (the VAU
// timestamp), so events either side of an hour boundary land in their own hours whatever order they
// arrive in. Fed off the hot path (a Batcher in the isolate); an hourly alarm prunes old hours.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { AGGREGATOR_RETENTION_HOURS } from "../retention";
import { hourStart } from "../scoring";

const HOUR_MS = 3_600_000;

export interface HourEvent {
  occurredAt: number;
  earned: string;
}

export interface HourTotals {
  hour: string;
  vaus: number;
  rewarded: number;
  earned: string;
}

export class HourlyAggregator extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS hours (hour_start INTEGER PRIMARY KEY, vaus INTEGER NOT NULL, rewarded INTEGER NOT NULL, earned TEXT NOT NULL)");
  }

  /** The readiness probe: the object answers. */
  async ping(): Promise<true> {
    return true;
  }

  async record(events: HourEvent[]): Promise<number> {
    const byHour = new Map<number, { vaus: number; rewarded: number; earned: bigint }>();
    for (const e of events) {
      const key = hourStart(e.occurredAt);
      const t = byHour.get(key) ?? { vaus: 0, rewarded: 0, earned: 0n };
      const earned = BigInt(e.earned);
      t.vaus += 1;
      if (earned > 0n) t.rewarded += 1;
      t.earned += earned;
      byHour.set(key, t);
    }
    // Read-modify-write in synchronous SQL: no other call can interleave.
    for (const [key, t] of byHour) {
      const row = this.sql.exec<{ earned: string }>("SELECT earned FROM hours WHERE hour_start = ?", key).toArray()[0];
      const earned = (row ? BigInt(row.earned) : 0n) + t.earned;
      this.sql.exec(
        "INSERT INTO hours (hour_start, vaus, rewarded, earned) VALUES (?, ?, ?, ?) ON CONFLICT (hour_start) DO UPDATE SET vaus = vaus + excluded.vaus, rewarded = rewarded + excluded.rewarded, earned = excluded.earned",
        key,
        t.vaus,
        t.rewarded,
        earned.toString(),
      );
    }
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(hourStart(Date.now()) + HOUR_MS);
    return events.length;
  }

  async hours(): Promise<HourTotals[]> {
    return this.sql
      .exec<{ hour_start: number; vaus: number; rewarded: number; earned: string }>("SELECT hour_start, vaus, rewarded, earned FROM hours ORDER BY hour_start")
      .toArray()
      .map((r) => ({ hour: new Date(r.hour_start).toISOString(), vaus: r.vaus, rewarded: r.rewarded, earned: r.earned }));
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.sql.exec("DELETE FROM hours WHERE hour_start < ?", hourStart(now) - AGGREGATOR_RETENTION_HOURS * HOUR_MS);
    const left = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM hours").one().n;
    if (left > 0) await this.ctx.storage.setAlarm(hourStart(now) + HOUR_MS);
  }
}
