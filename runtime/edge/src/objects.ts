// The three SQLite-backed Durable Object classes named in bindings.ts. They speak a small JSON-over-
// fetch protocol (callObject below) so the bundle needs no runtime-specific imports. State lives in
// the object's storage, so an evicted or restarted object carries on where it stopped; alarms delete
// what is no longer needed.

import { unavailable } from "@twist/shared/errors";
import { hourStart } from "./scoring";

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/**
 * POSTs `body` to the named object of `ns` and returns its JSON answer. An object that cannot be
 * reached or fails is an outage (503 UNAVAILABLE, the client retries); any other non-2xx is a bug.
 */
export async function callObject<T>(ns: DurableObjectNamespace, name: string, path: string, body?: unknown): Promise<T> {
  const stub = ns.get(ns.idFromName(name));
  let res: Response;
  try {
    res = await stub.fetch(`https://object${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  } catch {
    throw unavailable(`durable object ${path} is unreachable; retry later`);
  }
  if (res.status >= 500) throw unavailable(`durable object ${path} is unavailable; retry later`);
  if (!res.ok) throw new Error(`durable object ${path} answered ${res.status}`);
  return (await res.json()) as T;
}

function objectJson(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

// ---------------------------------------------------------------------------------------------
// RateLimiter: one object per key ("wallet:<address>", "device:<deviceId>"), a sliding-window log:
// a request is allowed while fewer than `limit` were allowed in the last 60 s. Exact: the
// limit+1-th request inside any 60 s window is refused.

export const RATE_WINDOW_MS = MINUTE_MS;

export interface TakeRequest {
  limit: number;
  cost: number;
  /** Grant as many as available (batch) instead of all-or-nothing. */
  partial?: boolean;
}

export interface TakeResult {
  granted: number;
  limit: number;
  remaining: number;
  /** Unix ms when the window holds no allowed request any more (the full limit is available). */
  resetAt: number;
  /** Ms until one more request would be allowed (0 when one is). */
  retryAfterMs: number;
}

export class RateLimiter {
  /** Unix ms of each allowed request in the window, oldest first; loaded once from storage. */
  private log: number[] | undefined;

  constructor(private readonly ctx: DurableObjectState, _env: unknown) {}

  async fetch(request: Request): Promise<Response> {
    const input = (await request.json()) as TakeRequest;
    return objectJson(await this.take(input, Date.now()));
  }

  private async take({ limit, cost, partial }: TakeRequest, now: number): Promise<TakeResult> {
    if (this.log === undefined) this.log = (await this.ctx.storage.get<number[]>("log")) ?? [];
    const log = this.log.filter((t) => t > now - RATE_WINDOW_MS);
    const free = Math.max(0, limit - log.length);
    const granted = partial ? Math.min(cost, free) : free >= cost ? cost : 0;
    for (let i = 0; i < granted; i++) log.push(now);
    // Only the newest `limit` entries can ever matter.
    this.log = log.slice(-limit);
    if (granted > 0) {
      // put() is durable before the answer leaves the object (output gate), so a restart or an
      // eviction cannot forget what was granted.
      this.ctx.storage.put("log", this.log);
      // Once every entry has left the window the state carries no information: the alarm deletes it.
      this.ctx.storage.setAlarm(now + RATE_WINDOW_MS + 1000);
    }
    const remaining = Math.max(0, limit - this.log.length);
    const oldest = this.log[0];
    return {
      granted,
      limit,
      remaining,
      resetAt: this.log.length ? this.log[this.log.length - 1]! + RATE_WINDOW_MS : now,
      retryAfterMs: remaining > 0 || oldest === undefined ? 0 : Math.max(1, oldest + RATE_WINDOW_MS - now),
    };
  }

  async alarm(): Promise<void> {
    const now = Date.now();
    const log = (this.log ?? (await this.ctx.storage.get<number[]>("log")) ?? []).filter((t) => t > now - RATE_WINDOW_MS);
    if (log.length === 0) {
      await this.ctx.storage.deleteAll();
      this.log = [];
    } else {
      await this.ctx.storage.setAlarm(log[log.length - 1]! + RATE_WINDOW_MS + 1000);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// VauDedupe: sharded by the first two hex digits of the vauId. The claim is one synchronous SQL
// statement, so concurrent claims of one id are serialised by the object: exactly one wins.

export class VauDedupe {
  private readonly sql: SqlStorage;
  private alarmAt: number | null = null;

  constructor(private readonly ctx: DurableObjectState, _env: unknown) {
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, expires INTEGER NOT NULL)");
  }

  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const input = (await request.json()) as { id: string; ttlMs?: number };
    const now = Date.now();
    if (path === "/release") {
      this.sql.exec("DELETE FROM seen WHERE id = ?", input.id);
      return objectJson({ released: true });
    }
    const expires = now + (input.ttlMs ?? HOUR_MS);
    const cursor = this.sql.exec(
      "INSERT INTO seen (id, expires) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET expires = excluded.expires WHERE seen.expires <= ?",
      input.id,
      expires,
      now,
    );
    const claimed = cursor.rowsWritten > 0;
    if (claimed) await this.scheduleCleanup(expires);
    return objectJson({ claimed });
  }

  private async scheduleCleanup(at: number): Promise<void> {
    if (this.alarmAt === null) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || this.alarmAt > at + MINUTE_MS) {
      // Expired rows are swept at most a minute late, in one pass for everything due by then.
      this.alarmAt = at + MINUTE_MS;
      await this.ctx.storage.setAlarm(this.alarmAt);
    }
  }

  async alarm(): Promise<void> {
    const now = Date.now();
    this.sql.exec("DELETE FROM seen WHERE expires <= ?", now);
    const next = this.sql.exec<{ next: number | null }>("SELECT MIN(expires) AS next FROM seen").one().next;
    this.alarmAt = null;
    if (next !== null) await this.scheduleCleanup(Math.max(next, now));
  }
}

// ---------------------------------------------------------------------------------------------
// HourlyAggregator: totals per UTC hour of the event time (the VAU timestamp), so events either side
// of an hour boundary land in their own hours whatever order they arrive in. An hourly alarm
// prunes hours older than the retention.

export const AGGREGATOR_NAME = "global";
export const AGGREGATOR_RETENTION_HOURS = 48;

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

export class HourlyAggregator {
  private readonly sql: SqlStorage;

  constructor(private readonly ctx: DurableObjectState, _env: unknown) {
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS hours (hour_start INTEGER PRIMARY KEY, vaus INTEGER NOT NULL, rewarded INTEGER NOT NULL, earned TEXT NOT NULL)",
    );
  }

  async fetch(request: Request): Promise<Response> {
    if (request.method === "GET") return objectJson({ hours: this.hours() });
    const { events } = (await request.json()) as { events: HourEvent[] };
    const byHour = new Map<number, { vaus: number; rewarded: number; earned: bigint }>();
    for (const e of events) {
      const key = hourStart(e.occurredAt);
      const t = byHour.get(key) ?? { vaus: 0, rewarded: 0, earned: 0n };
      t.vaus += 1;
      const earned = BigInt(e.earned);
      if (earned > 0n) t.rewarded += 1;
      t.earned += earned;
      byHour.set(key, t);
    }
    // Read-modify-write in synchronous SQL: no other event can interleave.
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
    return objectJson({ recorded: events.length });
  }

  private hours(): HourTotals[] {
    return this.sql
      .exec<{ hour_start: number; vaus: number; rewarded: number; earned: string }>(
        "SELECT hour_start, vaus, rewarded, earned FROM hours ORDER BY hour_start",
      )
      .toArray()
      .map((r) => ({ hour: new Date(r.hour_start).toISOString(), vaus: r.vaus, rewarded: r.rewarded, earned: r.earned }));
  }

  async alarm(): Promise<void> {
    const now = Date.now();
    this.sql.exec("DELETE FROM hours WHERE hour_start < ?", hourStart(now) - AGGREGATOR_RETENTION_HOURS * HOUR_MS);
    const left = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM hours").one().n;
    if (left > 0) await this.ctx.storage.setAlarm(hourStart(now) + HOUR_MS);
  }
}
