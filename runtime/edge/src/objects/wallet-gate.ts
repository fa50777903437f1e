// WalletGate: one Durable Object per wallet (named wallet:<JWT sub>) that decides everything decided
// per wallet in one call: the rate-limit windows of the wallet and of each of its devices, the dedupe
// of the wallet's vauIds (a vauId is derived from the wallet, so sharding by wallet is exact) and the
// device histories the trust score reads. admit() answers a single VAU or a whole batch; release()
// undoes an admission whose reward messages the queue refused.
//
// Why it is exact: every decision of admit() is taken inside one synchronous SQLite transaction, so
// no other call can interleave between reading a window, a claim or a history and writing it; 50
// concurrent copies of one VAU are serialised here and exactly one claims it. Everything is in
// SQLite, durable before the answer leaves the object (output gate), so a restart or an eviction
// carries on where it stopped. Storage stays bounded: one alarm deletes windows once they are empty,
// claims once they expire and histories unused for HISTORY_RETENTION_MS, and the whole storage once
// nothing is left.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { HISTORY_RETENTION_MS, RATE_WINDOW_MS } from "../retention";
import { earnedFor, parseHistory, recordActivity, trustScore, type DeviceHistory } from "../scoring";
import type { Admission, AdmitRequest, RateLimitView, Undo, Verdict } from "./admission";

/** The alarm runs this long after the first thing it has to delete is due, to sweep in one pass. */
const ALARM_SLACK_MS = 1_000;
const WALLET_BUCKET = "wallet";
const deviceBucket = (deviceId: string) => `device:${deviceId}`;

/** A window is a list of [Unix ms, slots taken at that ms], oldest first. */
type Window = [number, number][];

export class WalletGate extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private schemaReady = false;
  // Rows read from SQLite, so a wallet's steady traffic reads nothing: the tables stay the authority
  // (every change is written through), and both are dropped whenever a transaction rolls back.
  /** Windows by bucket. */
  private readonly windows = new Map<string, Window>();
  /** Device histories by deviceId; null when the table has none. */
  private readonly histories = new Map<string, DeviceHistory | null>();
  private alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
  }

  /** The readiness probe: the object answers. */
  async ping(): Promise<true> {
    return true;
  }

  async admit(request: AdmitRequest): Promise<Admission> {
    this.ensureSchema();
    await this.importLegacyHistories(request.wallet, [...new Set(request.items.map((i) => i.deviceId))]);
    const now = Date.now();
    const admission = this.atomically(() => this.decide(request, now));
    await this.scheduleAlarm(now + RATE_WINDOW_MS + ALARM_SLACK_MS);
    return admission;
  }

  /** Takes back what admit() wrote (claims, slots, histories not changed since), so a retry is new. */
  async release(undo: Undo): Promise<void> {
    this.ensureSchema();
    const now = Date.now();
    this.atomically(() => {
      for (const id of undo.claims) this.sql.exec("DELETE FROM claims WHERE id = ?", id);
      for (const { bucket, n } of undo.slots) {
        const window = this.window(bucket, now);
        const entry = window.find(([at]) => at === undo.at);
        if (!entry) continue;
        entry[1] -= Math.min(n, entry[1]);
        if (entry[1] === 0) window.splice(window.indexOf(entry), 1);
        this.saveWindow(bucket, window);
      }
      // In reverse, so a device touched twice ends at its first `before`.
      for (const { deviceId, before, after } of [...undo.devices].reverse()) {
        if (!sameHistory(this.readHistory(deviceId), after)) continue;
        if (before) this.writeHistory(deviceId, before);
        else {
          this.sql.exec("DELETE FROM devices WHERE device_id = ?", deviceId);
          this.histories.set(deviceId, null);
        }
      }
    });
  }

  override async alarm(): Promise<void> {
    this.ensureSchema();
    const now = Date.now();
    this.forgetCached();
    let next = Infinity;
    for (const { bucket, log } of this.sql.exec<{ bucket: string; log: string }>("SELECT bucket, log FROM windows").toArray()) {
      const live = (JSON.parse(log) as Window).filter(([at]) => at > now - RATE_WINDOW_MS);
      if (live.length === 0) this.sql.exec("DELETE FROM windows WHERE bucket = ?", bucket);
      else {
        this.saveWindow(bucket, live);
        next = Math.min(next, live[live.length - 1]![0] + RATE_WINDOW_MS);
      }
    }
    this.sql.exec("DELETE FROM claims WHERE expires <= ?", now);
    this.sql.exec("DELETE FROM devices WHERE last_seen <= ?", now - HISTORY_RETENTION_MS);
    const claim = this.sql.exec<{ at: number | null }>("SELECT MIN(expires) AS at FROM claims").one().at;
    const device = this.sql.exec<{ at: number | null }>("SELECT MIN(last_seen) AS at FROM devices").one().at;
    if (claim !== null) next = Math.min(next, claim);
    if (device !== null) next = Math.min(next, device + HISTORY_RETENTION_MS);
    this.alarmAt = null;
    if (next === Infinity) {
      // Nothing left to remember: no storage at all (this also drops a RateLimiter's old `log`).
      await this.ctx.storage.deleteAll();
      this.schemaReady = false;
    } else {
      await this.ctx.storage.delete("log");
      await this.scheduleAlarm(next + ALARM_SLACK_MS);
    }
  }

  /** One synchronous transaction; when it rolls back, the cached rows may be ahead of SQLite. */
  private atomically<T>(body: () => T): T {
    try {
      return this.ctx.storage.transactionSync(body);
    } catch (err) {
      this.forgetCached();
      throw err;
    }
  }

  private forgetCached(): void {
    this.windows.clear();
    this.histories.clear();
  }

  private decide(request: AdmitRequest, now: number): Admission {
    const undo: Undo = { at: now, claims: [], slots: [], devices: [] };
    const taken = new Map<string, number>();
    const histories = new Map<string, DeviceHistory | null>();
    const touched = new Set<string>([WALLET_BUCKET]);
    const maxEarned = BigInt(request.maxEarned);
    const limitOf = (bucket: string) => (bucket === WALLET_BUCKET ? request.walletLimit : request.deviceLimit);
    let retryAfterMs = 0;

    const verdicts = request.items.map((item): Verdict => {
      const device = deviceBucket(item.deviceId);
      touched.add(device);
      // Every valid VAU counts against both windows, duplicates included (a replay flood is not free).
      const full = [WALLET_BUCKET, device].filter((b) => used(this.window(b, now)) >= limitOf(b));
      if (full.length) {
        for (const b of full) retryAfterMs = Math.max(retryAfterMs, untilFree(this.window(b, now), limitOf(b), now));
        return { outcome: "rate_limited" };
      }
      for (const b of [WALLET_BUCKET, device]) {
        takeSlot(this.window(b, now), now);
        taken.set(b, (taken.get(b) ?? 0) + 1);
      }
      // A claim is new, or replaces one that has expired; anything else is a duplicate.
      const claimed = this.sql.exec(
        "INSERT INTO claims (id, expires) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET expires = excluded.expires WHERE claims.expires <= ?",
        item.vauId,
        now + request.claimTtlMs,
        now,
      ).rowsWritten;
      if (claimed === 0) return { outcome: "duplicate" };
      undo.claims.push(item.vauId);
      // Items of one device see each other in order.
      if (!histories.has(item.deviceId)) histories.set(item.deviceId, this.readHistory(item.deviceId));
      const before = histories.get(item.deviceId)!;
      const score = trustScore(before, now);
      const after = recordActivity(before, now);
      histories.set(item.deviceId, after);
      undo.devices.push({ deviceId: item.deviceId, before, after });
      return { outcome: "accepted", trustScore: score, earned: earnedFor(score, item.activeMs, maxEarned).toString() };
    });

    for (const [deviceId, history] of histories) if (history) this.writeHistory(deviceId, history);
    for (const [bucket, n] of taken) {
      this.saveWindow(bucket, this.window(bucket, now));
      undo.slots.push({ bucket, n });
    }
    return { now, verdicts, rateLimit: this.tightest([...touched], limitOf, now), retryAfterMs, undo };
  }

  private tightest(buckets: string[], limitOf: (bucket: string) => number, now: number): RateLimitView {
    let view: RateLimitView | undefined;
    for (const b of buckets) {
      const window = this.window(b, now);
      const remaining = Math.max(0, limitOf(b) - used(window));
      if (view && remaining >= view.remaining) continue;
      const newest = window[window.length - 1];
      view = { limit: limitOf(b), remaining, resetAt: newest ? newest[0] + RATE_WINDOW_MS : now };
    }
    return view!;
  }

  /** The bucket's window with everything older than RATE_WINDOW_MS dropped. */
  private window(bucket: string, now: number): Window {
    let window = this.windows.get(bucket);
    if (!window) {
      const row = this.sql.exec<{ log: string }>("SELECT log FROM windows WHERE bucket = ?", bucket).toArray()[0];
      window = row ? (JSON.parse(row.log) as Window) : [];
      this.windows.set(bucket, window);
    }
    while (window.length && window[0]![0] <= now - RATE_WINDOW_MS) window.shift();
    return window;
  }

  private saveWindow(bucket: string, window: Window): void {
    this.windows.set(bucket, window);
    this.sql.exec("INSERT INTO windows (bucket, log) VALUES (?, ?) ON CONFLICT (bucket) DO UPDATE SET log = excluded.log", bucket, JSON.stringify(window));
  }

  private readHistory(deviceId: string): DeviceHistory | null {
    const cached = this.histories.get(deviceId);
    if (cached !== undefined) return cached;
    const row = this.sql
      .exec<{ first_seen: number; last_seen: number; total: number; window_start: number; window_count: number }>(
        "SELECT first_seen, last_seen, total, window_start, window_count FROM devices WHERE device_id = ?",
        deviceId,
      )
      .toArray()[0];
    const history = row ? { firstSeen: row.first_seen, lastSeen: row.last_seen, total: row.total, windowStart: row.window_start, windowCount: row.window_count } : null;
    this.histories.set(deviceId, history);
    return history;
  }

  private writeHistory(
    deviceId: string,
    h: DeviceHistory,
    onConflict = "DO UPDATE SET first_seen = excluded.first_seen, last_seen = excluded.last_seen, total = excluded.total, window_start = excluded.window_start, window_count = excluded.window_count",
  ): void {
    // DO NOTHING may leave the row as it was: read it back next time.
    if (onConflict === "DO NOTHING") this.histories.delete(deviceId);
    else this.histories.set(deviceId, h);
    this.sql.exec(
      `INSERT INTO devices (device_id, first_seen, last_seen, total, window_start, window_count) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (device_id) ${onConflict}`,
      deviceId,
      h.firstSeen,
      h.lastSeen,
      h.total,
      h.windowStart,
      h.windowCount,
    );
  }

  /**
   * Histories of versions before this class lived in KV (`device:<wallet>:<deviceId>`, now never
   * written). A device this object has no history for is looked up there once, before any decision,
   * so a KV outage fails the call with nothing decided; a history unused for longer than the
   * retention is ignored, as this object would have deleted it.
   */
  private async importLegacyHistories(wallet: string, deviceIds: string[]): Promise<void> {
    const missing = deviceIds.filter((d) => !this.readHistory(d));
    if (missing.length === 0) return;
    const found = await Promise.all(missing.map(async (d) => [d, parseHistory(await this.env.DEVICES.get(`device:${wallet}:${d}`, "json"))] as const));
    const now = Date.now();
    for (const [deviceId, history] of found) {
      // DO NOTHING: a concurrent call may have written a newer history while KV answered.
      if (history && now - history.lastSeen < HISTORY_RETENTION_MS) this.writeHistory(deviceId, history, "DO NOTHING");
    }
  }

  private ensureSchema(): void {
    if (this.schemaReady) return;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS windows (bucket TEXT PRIMARY KEY, log TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS claims (id TEXT PRIMARY KEY, expires INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS devices (device_id TEXT PRIMARY KEY, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
        total INTEGER NOT NULL, window_start INTEGER NOT NULL, window_count INTEGER NOT NULL);
    `);
    this.schemaReady = true;
  }

  /** Moves the alarm earlier when `at` is before it; never later (the alarm itself reschedules). */
  private async scheduleAlarm(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }
}

function used(window: Window): number {
  let n = 0;
  for (const [, count] of window) n += count;
  return n;
}

function takeSlot(window: Window, now: number): void {
  const newest = window[window.length - 1];
  if (newest && newest[0] === now) newest[1] += 1;
  else window.push([now, 1]);
}

/** Ms until one more slot fits in a full window: when enough of its oldest entries have left it. */
function untilFree(window: Window, limit: number, now: number): number {
  let toLeave = used(window) - limit + 1;
  for (const [at, count] of window) {
    toLeave -= count;
    if (toLeave <= 0) return Math.max(1, at + RATE_WINDOW_MS - now);
  }
  return 1;
}

function sameHistory(a: DeviceHistory | null, b: DeviceHistory): boolean {
  return !!a && a.firstSeen === b.firstSeen && a.lastSeen === b.lastSeen && a.total === b.total && a.windowStart === b.windowStart && a.windowCount === b.windowCount;
}
