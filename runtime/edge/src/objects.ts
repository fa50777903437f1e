// The three SQLite-backed Durable Object classes named in bindings.ts. They speak a small JSON-over-
// fetch protocol (callObject below) so the bundle needs no runtime-specific imports. State lives in
// the object's storage, so an evicted or restarted object carries on where it stopped; alarms delete
// what is no longer needed.

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** POSTs `body` to the named object of `ns` and returns its JSON answer; throws on a non-2xx. */
export async function callObject<T>(ns: DurableObjectNamespace, name: string, path: string, body?: unknown): Promise<T> {
  const stub = ns.get(ns.idFromName(name));
  const res = await stub.fetch(`https://object${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`durable object ${path} answered ${res.status}`);
  return (await res.json()) as T;
}

function objectJson(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

// ---------------------------------------------------------------------------------------------
// RateLimiter: one object per key ("wallet:<address>", "device:<deviceId>"), a token bucket of
// `limit` tokens refilled continuously at `limit` per minute.

export interface TakeRequest {
  limit: number;
  cost: number;
  /** Grant as many as available (batch) instead of all-or-nothing. */
  partial?: boolean;
  now?: number;
}

export interface TakeResult {
  granted: number;
  limit: number;
  remaining: number;
  /** Unix ms when the bucket is full again. */
  resetAt: number;
  /** Ms until one more token is available (0 when one is). */
  retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private bucket: Bucket | null | undefined;

  constructor(private readonly ctx: DurableObjectState, _env: unknown) {}

  async fetch(request: Request): Promise<Response> {
    const input = (await request.json()) as TakeRequest;
    return objectJson(await this.take(input));
  }

  private async take({ limit, cost, partial, now = Date.now() }: TakeRequest): Promise<TakeResult> {
    if (this.bucket === undefined) this.bucket = (await this.ctx.storage.get<Bucket>("bucket")) ?? null;
    const previous = this.bucket ?? { tokens: limit, updatedAt: now };
    const perMs = limit / MINUTE_MS;
    let tokens = Math.min(limit, previous.tokens + Math.max(0, now - previous.updatedAt) * perMs);
    const granted = partial ? Math.min(cost, Math.floor(tokens)) : tokens >= cost ? cost : 0;
    tokens -= granted;
    this.bucket = { tokens, updatedAt: now };
    const resetAt = now + Math.ceil((limit - tokens) / perMs);
    // put() is durable before the answer leaves the object (output gate), so a restart cannot
    // hand out the same tokens twice.
    this.ctx.storage.put("bucket", this.bucket);
    // Once the bucket would be full it carries no information: the alarm deletes it then.
    this.ctx.storage.setAlarm(resetAt + MINUTE_MS);
    return {
      granted,
      limit,
      remaining: Math.floor(tokens),
      resetAt,
      retryAfterMs: tokens >= 1 ? 0 : Math.ceil((1 - tokens) / perMs),
    };
  }

  async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.bucket = null;
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
    const input = (await request.json()) as { id: string; ttlMs?: number; now?: number };
    const now = input.now ?? Date.now();
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

export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
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
