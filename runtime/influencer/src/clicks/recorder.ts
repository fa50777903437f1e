// Click recording that never loses an accepted click and never holds up the redirect on Postgres.
//
// admit(): the redirect's one Redis round trip (a Lua script): the per-IP rate limit, the link's
// "gone" marker (link-cache.ts), and for a counted click the visitor's one-hour dedupe per link and
// the XADD to a Redis stream (one field per entry, parseEntries). The redirect is answered only after Redis acknowledged it, so an
// accepted click survives a crash of this process.
// flush(): reads the stream through a consumer group in batches, inserts into Postgres with
// ON CONFLICT (id) DO NOTHING (a batch retried after a crash cannot double-count), then XACK+XDEL.
// Entries delivered to a consumer that died are reclaimed (XAUTOCLAIM) after a minute of idleness.
import { hostname } from "node:os";
import type Redis from "ioredis";
import { Counter, type Registry } from "prom-client";
import type { Sequelize } from "sequelize";
import type { Logger } from "@twist/shared/logger";
import { RATE_LIMIT_LUA } from "@twist/service";
import { linkGoneKey } from "./link-cache";

export const CLICK_STREAM = "clicks:stream";
const GROUP = "recorder";
export const DEDUPE_WINDOW_SECONDS = 3600;

// KEYS: rate-limit counter, gone marker, dedupe key, stream. ARGV: window ms, limit, counted (1|0),
// click id, dedupe ttl, link id, visitor hash, ip hash, occurredAt ms.
// Returns {count, ttl, outcome, click id}; outcome: 0 limited, 1 gone, 2 not counted, 3 new click,
// 4 repeat (click id of the earlier click). Nothing is recorded when limited or gone.
const ADMIT = `${RATE_LIMIT_LUA}
if count > tonumber(ARGV[2]) then return {count, ttl, 0, ''} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {count, ttl, 1, ''} end
if ARGV[3] == '0' then return {count, ttl, 2, ''} end
local existing = redis.call('GET', KEYS[3])
if existing then return {count, ttl, 4, existing} end
redis.call('SET', KEYS[3], ARGV[4], 'EX', tonumber(ARGV[5]))
redis.call('XADD', KEYS[4], '*', 'c', ARGV[4] .. ' ' .. ARGV[6] .. ' ' .. ARGV[7] .. ' ' .. ARGV[8] .. ' ' .. ARGV[9])
return {count, ttl, 3, ARGV[4]}`;

const OUTCOMES = ["limited", "gone", "not-counted", "new", "repeat"] as const;

export interface Admission {
  /** Hits of the rate-limit window so far, and ms left in it (for rateLimitResult). */
  count: number;
  ttl: number;
  outcome: (typeof OUTCOMES)[number];
  /** The click id to hand to the merchant: this click's, or the earlier one's for a repeat. */
  clickId: string | null;
}

export interface AdmitInput {
  rateLimit: { key: string; windowMs: number; limit: number };
  linkId: string;
  /** The click to count, or null when this redirect does not count (notCountedReason). */
  click: ClickInput | null;
}

type WithAdmit = Redis & { twistClickAdmit(...args: string[]): Promise<[number, number, number, string]> };

export interface ClickInput {
  id: string;
  linkId: string;
  visitorHash: string;
  ipHash: string;
  occurredAt: Date;
}

interface StreamClick {
  entryId: string;
  click: ClickInput;
}

type StreamEntries = [string, string[]][];

export class ClickRecorder {
  private readonly consumer = `${hostname()}:${process.pid}`;
  private groupReady: Promise<void> | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private readonly accepted: Counter;
  private readonly recorded: Counter;
  private readonly duplicates: Counter;
  /** The client admit() sends on. */
  readonly admitRedis: Redis;
  /** admitRedis's socket while it is corked until the end of this event-loop turn (admit). */
  private corked: Redis["stream"] | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly sequelize: Sequelize,
    private readonly logger: Logger,
    registry: Registry,
    private readonly options: {
      batchSize?: number;
      intervalMs?: number;
      reclaimIdleMs?: number;
      /** The client of admit(), the redirect's round trip (a connection of its own); default `redis`. */
      admitRedis?: Redis;
    } = {},
  ) {
    this.admitRedis = options.admitRedis ?? redis;
    this.accepted = new Counter({ name: "clicks_accepted_total", help: "Clicks accepted into the stream", registers: [registry] });
    this.recorded = new Counter({ name: "clicks_recorded_total", help: "Clicks written to Postgres", registers: [registry] });
    this.duplicates = new Counter({ name: "clicks_duplicate_total", help: "Repeat clicks within the dedupe window", registers: [registry] });
  }

  /** The redirect's single round trip (see ADMIT); a new click is durable in Redis when this resolves. */
  async admit(input: AdmitInput): Promise<Admission> {
    const c = input.click;
    const redis = this.admitRedis;
    // Registered once per client; ioredis then sends EVALSHA, not the script text.
    if (!("twistClickAdmit" in redis)) redis.defineCommand("twistClickAdmit", { numberOfKeys: 4, lua: ADMIT });
    this.corkUntilNextTurn();
    const [count, ttl, code, id] = await (redis as WithAdmit).twistClickAdmit(
      input.rateLimit.key,
      linkGoneKey(input.linkId),
      c ? `clicks:seen:${input.linkId}:${c.visitorHash}` : "clicks:seen:-",
      CLICK_STREAM,
      String(input.rateLimit.windowMs),
      String(input.rateLimit.limit),
      c ? "1" : "0",
      c?.id ?? "",
      String(DEDUPE_WINDOW_SECONDS),
      input.linkId,
      c?.visitorHash ?? "",
      c?.ipHash ?? "",
      String(c?.occurredAt.getTime() ?? 0),
    );
    const outcome = OUTCOMES[code]!;
    if (outcome === "new") this.accepted.inc();
    if (outcome === "repeat") this.duplicates.inc();
    return { count, ttl, outcome, clickId: id || null };
  }

  /**
   * The admits of concurrent redirects that this event-loop turn handles leave in one socket write
   * (corked here, uncorked in setImmediate, after the turn's I/O callbacks): on loopback each write
   * costs its sender the receiver's side too, and one write per redirect was its largest cost.
   */
  private corkUntilNextTurn(): void {
    const stream = this.admitRedis.stream;
    if (this.corked === stream || stream?.writable !== true) return;
    this.corked = stream;
    stream.cork();
    setImmediate(() => {
      this.corked = null;
      stream.uncork();
    });
  }

  /** Starts the background flusher. */
  start(): void {
    if (this.timer) return;
    // One warning per outage, not one per tick (5 a second while Redis or Postgres is down).
    let failing = false;
    this.timer = setInterval(() => {
      this.flush().then(
        () => {
          if (failing) this.logger.info("click flush recovered");
          failing = false;
        },
        (err: unknown) => {
          if (!failing) this.logger.warn({ err }, "click flush failed; will retry");
          failing = true;
        },
      );
    }, this.options.intervalMs ?? 200);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Writes every click accepted so far into Postgres; resolves with how many it wrote. Serialised. */
  flush(): Promise<number> {
    const run = this.chain.then(() => this.drain());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async drain(): Promise<number> {
    await this.ensureGroup();
    let total = 0;
    // Own pending entries first (a batch whose insert failed), then orphans, then new entries.
    for (;;) {
      let batch: StreamClick[] | null;
      try {
        batch = (await this.readPending()) ?? (await this.reclaim()) ?? (await this.readNew());
      } catch (err) {
        // Redis came back empty (restarted without its data): the group is gone with the stream.
        // Forget it so the next flush creates it again; otherwise no click would be written again.
        if (/NOGROUP/.test((err as Error).message)) this.groupReady = null;
        throw err;
      }
      if (!batch) return total;
      total += await this.write(batch);
    }
  }

  private async ensureGroup(): Promise<void> {
    // ioredis does not apply keyPrefix to XGROUP (its key follows a subcommand): prefix it here.
    const stream = `${this.redis.options.keyPrefix ?? ""}${CLICK_STREAM}`;
    this.groupReady ??= this.redis
      .xgroup("CREATE", stream, GROUP, "0", "MKSTREAM")
      .then(() => undefined)
      .catch((err: Error) => {
        if (!/BUSYGROUP/.test(err.message)) {
          this.groupReady = null;
          throw err;
        }
      });
    return this.groupReady;
  }

  private async readPending(): Promise<StreamClick[] | null> {
    return this.read("0");
  }

  private async readNew(): Promise<StreamClick[] | null> {
    return this.read(">");
  }

  private async read(from: "0" | ">"): Promise<StreamClick[] | null> {
    const count = this.options.batchSize ?? 1000;
    const reply = (await this.redis.xreadgroup("GROUP", GROUP, this.consumer, "COUNT", count, "STREAMS", CLICK_STREAM, from)) as [string, StreamEntries][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    return entries.length ? parseEntries(entries) : null;
  }

  private async reclaim(): Promise<StreamClick[] | null> {
    const reply = (await this.redis.xautoclaim(CLICK_STREAM, GROUP, this.consumer, this.options.reclaimIdleMs ?? 60_000, "0", "COUNT", this.options.batchSize ?? 1000)) as [
      string,
      StreamEntries,
      string[]?,
    ];
    const entries = (reply[1] ?? []).filter((e) => Array.isArray(e[1]));
    return entries.length ? parseEntries(entries) : null;
  }

  private async write(batch: StreamClick[]): Promise<number> {
    const valid = batch.filter((b) => b.click.id && b.click.linkId);
    if (valid.length) {
      // One array per column: five parameters and a short statement whatever the batch size.
      const column = (pick: (c: ClickInput) => string) => valid.map(({ click }) => pick(click));
      await this.sequelize.query(
        `INSERT INTO clicks (id, link_id, visitor_hash, ip_hash, occurred_at)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[]) ON CONFLICT (id) DO NOTHING`,
        { bind: [column((c) => c.id), column((c) => c.linkId), column((c) => c.visitorHash), column((c) => c.ipHash), column((c) => c.occurredAt.toISOString())] },
      );
    }
    const ids = batch.map((b) => b.entryId);
    await this.redis
      .multi()
      .xack(CLICK_STREAM, GROUP, ...ids)
      .xdel(CLICK_STREAM, ...ids)
      .exec();
    this.recorded.inc(valid.length);
    return valid.length;
  }
}

/**
 * Entries hold one field, c = "<id> <link> <visitor> <ip> <at ms>" (none of them contains a space):
 * a fifth of the strings to store, send and parse of one field per value. Entries of the previous
 * version (fields id, link, visitor, ip, at) can still be in a live stream at deploy: read both.
 */
function parseEntries(entries: StreamEntries): StreamClick[] {
  return entries.map(([entryId, flat]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
    const [id = "", linkId = "", visitorHash = "", ipHash = "", at = ""] = f.c?.split(" ") ?? [f.id, f.link, f.visitor, f.ip, f.at];
    return { entryId, click: { id, linkId, visitorHash, ipHash, occurredAt: new Date(Number(at)) } };
  });
}
