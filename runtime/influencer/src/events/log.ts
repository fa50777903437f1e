// Reads of the per-wallet replay log written by recordEvents: what a reconnecting client missed, and
// what a listener must read back when a NOTIFY carried only an id range.
import { QueryTypes, type Sequelize } from "sequelize";
import type { EventFrame, EventType } from "@twist/shared/events";
import { REPLAY_LOG_MAX_AGE_HOURS, REPLAY_LOG_MAX_EVENTS } from "./record";

interface EventRow {
  id: string;
  type: EventType;
  data: Record<string, unknown>;
  at: Date;
}

const frame = (r: EventRow): EventFrame => ({ v: 1, type: r.type, id: r.id, at: new Date(r.at).toISOString(), data: r.data });
// The replay window: the age bound, and the wallet's last REPLAY_LOG_MAX_EVENTS ids (the write path
// deletes past the count bound only every so many ids, so a few more rows may still be stored).
const RETAINED = `at >= now() - interval '${REPLAY_LOG_MAX_AGE_HOURS} hours'`;
const WITHIN_COUNT = `id > (SELECT h.last_id FROM wallet_event_heads h WHERE h.wallet = $1) - ${REPLAY_LOG_MAX_EVENTS}`;

export class EventLog {
  constructor(private readonly sequelize: Sequelize) {}

  /** The wallet's last event id ("0" before its first event). */
  async head(wallet: string): Promise<bigint> {
    const [row] = await this.sequelize.query<{ last_id: string }>(`SELECT last_id::text AS last_id FROM wallet_event_heads WHERE wallet = $1`, {
      bind: [wallet],
      type: QueryTypes.SELECT,
    });
    return row ? BigInt(row.last_id) : 0n;
  }

  /** Retained events with id > afterId, oldest first, at most `limit` (ordered by the bigint: its text sorts "10" before "9"). */
  async after(wallet: string, afterId: bigint, limit = REPLAY_LOG_MAX_EVENTS): Promise<EventFrame[]> {
    const rows = await this.sequelize.query<EventRow>(
      `SELECT e.id::text AS id, type, data, at FROM wallet_events e WHERE wallet = $1 AND id > $2::bigint AND ${RETAINED} AND ${WITHIN_COUNT} ORDER BY e.id LIMIT $3`,
      { bind: [wallet, afterId.toString(), limit], type: QueryTypes.SELECT },
    );
    return rows.map(frame);
  }

  /**
   * Whether events after `afterId` can still be replayed: the next one is retained (or nothing was
   * missed). Returns the oldest retained id when they cannot.
   */
  async gapAfter(wallet: string, afterId: bigint, head: bigint): Promise<bigint | null> {
    if (afterId > head) return head + 1n; // an id this wallet never had (a restored database): refetch
    if (afterId === head) return null;
    const [row] = await this.sequelize.query<{ oldest: string | null }>(`SELECT min(id)::text AS oldest FROM wallet_events WHERE wallet = $1 AND ${RETAINED} AND ${WITHIN_COUNT}`, {
      bind: [wallet],
      type: QueryTypes.SELECT,
    });
    const oldest = row?.oldest ? BigInt(row.oldest) : head + 1n;
    return oldest <= afterId + 1n ? null : oldest;
  }

  /** Deletes events past the age bound for every wallet (the write path prunes only the wallets it writes). */
  async pruneExpired(): Promise<number> {
    const [, meta] = await this.sequelize.query(`DELETE FROM wallet_events WHERE NOT (${RETAINED})`);
    return (meta as { rowCount?: number } | undefined)?.rowCount ?? 0;
  }
}
