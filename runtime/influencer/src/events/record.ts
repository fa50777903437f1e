// The publish hook: recordEvents(t, events) inside the transaction that causes them.
//   1. events of a notifying type also create their notification rows (and a notification.created event);
//   2. each wallet's head row is advanced by its number of events (a row lock held until commit:
//      a wallet's ids commit in increasing order), which assigns the ids;
//   3. the events go into the bounded replay log, with one pg_notify per wallet in the same statement;
//      every PRUNE_STEP ids, a wallet's events past the count bound are deleted (the age bound: EventLog);
//   4. Postgres delivers those NOTIFYs only when the transaction commits, to every
//      instance that LISTENs, so a rolled-back transfer emits nothing and any instance can serve the wallet.
// Call it last in the transaction, after the ledger postings: the head locks then come after the
// account locks everywhere, in wallet order, so event writers never deadlock with each other.
import { QueryTypes, type Sequelize, type Transaction } from "sequelize";
import type { EventFrame, EventType } from "@twist/shared/events";
import { NOTIFYING_EVENTS } from "../notifications/rules";

export interface NewEvent {
  wallet: string;
  type: EventType;
  data: Record<string, unknown>;
}

/** The retained replay log per wallet: the newer bound wins (documented in docs/api/events.md). */
export const REPLAY_LOG_MAX_EVENTS = 1000;
export const REPLAY_LOG_MAX_AGE_HOURS = 24;
/** A wallet's log is cut back to the count bound each time its head passes a multiple of this. */
const PRUNE_STEP = 100n;

export const EVENTS_CHANNEL = "twist_events";
/** NOTIFY payloads must stay under 8000 bytes; larger batches are sent as an id range to read back. */
const MAX_INLINE_PAYLOAD = 7000;

/** What travels on the channel: the frames themselves, or the id range when they do not fit. */
export type ChannelMessage = { w: string; e: EventFrame[] } | { w: string; from: string; to: string };

// Sequelize's Transaction knows its Sequelize instance (v6 sets it in the constructor; the typings omit it).
const sequelizeOf = (t: Transaction) => (t as unknown as { sequelize: Sequelize }).sequelize;

export async function recordEvents(t: Transaction, events: readonly NewEvent[]): Promise<EventFrame[]> {
  if (events.length === 0) return [];
  const sequelize = sequelizeOf(t);
  const all = [...events, ...(await createNotifications(sequelize, t, events))];

  const counts = new Map<string, number>();
  for (const e of all) counts.set(e.wallet, (counts.get(e.wallet) ?? 0) + 1);
  const wallets = [...counts.keys()].sort();
  const heads = await sequelize.query<{ wallet: string; last_id: string; at: Date }>(
    `INSERT INTO wallet_event_heads AS h (wallet, last_id)
     SELECT * FROM unnest($1::text[], $2::bigint[]) ORDER BY 1
     ON CONFLICT (wallet) DO UPDATE SET last_id = h.last_id + EXCLUDED.last_id
     RETURNING h.wallet, h.last_id::text AS last_id, now() AS at`,
    { bind: [wallets, wallets.map((w) => counts.get(w)!)], transaction: t, type: QueryTypes.SELECT },
  );
  const next = new Map(heads.map((h) => [h.wallet, BigInt(h.last_id) - BigInt(counts.get(h.wallet)!) + 1n]));
  const at = new Date(heads[0]!.at).toISOString();
  const frames = all.map((e): EventFrame & { wallet: string } => {
    const id = next.get(e.wallet)!;
    next.set(e.wallet, id + 1n);
    return { wallet: e.wallet, v: 1, type: e.type, id: id.toString(), at, data: e.data };
  });

  const framesOf = new Map<string, (EventFrame & { wallet: string })[]>();
  for (const f of frames) {
    const list = framesOf.get(f.wallet);
    if (list) list.push(f);
    else framesOf.set(f.wallet, [f]);
  }
  // The insert and the notifications in one round trip (a data-modifying WITH runs whether read or not).
  await sequelize.query(
    `WITH inserted AS (
       INSERT INTO wallet_events (wallet, id, type, data, at)
       SELECT w, i, ty, d, $5::timestamptz FROM unnest($1::text[], $2::bigint[], $3::text[], $4::jsonb[]) AS x(w, i, ty, d))
     SELECT pg_notify('${EVENTS_CHANNEL}', m) FROM unnest($6::text[]) AS m`,
    {
      bind: [
        frames.map((f) => f.wallet),
        frames.map((f) => f.id),
        frames.map((f) => f.type),
        frames.map((f) => JSON.stringify(f.data)),
        at,
        wallets.map((w) => channelMessage(w, framesOf.get(w)!)),
      ],
      transaction: t,
    },
  );
  // A statement of its own, so it sees (and bounds) the rows just inserted. Only the count bound (an
  // index range on (wallet, id)), and only for wallets whose head crossed a multiple of PRUNE_STEP:
  // a descent per credited wallet on every delivery cost more than the credit's own transfer. Reads
  // apply both bounds exactly (EventLog), and EventLog.pruneExpired deletes expired events periodically.
  const due = heads.filter((h) => {
    const last = BigInt(h.last_id);
    return last > BigInt(REPLAY_LOG_MAX_EVENTS) && last / PRUNE_STEP !== (last - BigInt(counts.get(h.wallet)!)) / PRUNE_STEP;
  });
  if (due.length > 0) {
    await sequelize.query(
      `DELETE FROM wallet_events e USING unnest($1::text[], $2::bigint[]) AS h(wallet, last_id)
       WHERE e.wallet = h.wallet AND e.id <= h.last_id - ${REPLAY_LOG_MAX_EVENTS}`,
      { bind: [due.map((h) => h.wallet), due.map((h) => h.last_id)], transaction: t },
    );
  }
  return frames.map(({ wallet: _wallet, ...frame }) => frame);
}

function channelMessage(wallet: string, frames: (EventFrame & { wallet: string })[]): string {
  const inline = JSON.stringify({ w: wallet, e: frames.map(({ wallet: _w, ...f }) => f) } satisfies ChannelMessage);
  if (Buffer.byteLength(inline) <= MAX_INLINE_PAYLOAD) return inline;
  return JSON.stringify({ w: wallet, from: frames[0]!.id, to: frames[frames.length - 1]!.id } satisfies ChannelMessage);
}

/** Notification rows for the notifying events, and the notification.created event of each. */
async function createNotifications(sequelize: Sequelize, t: Transaction, events: readonly NewEvent[]): Promise<NewEvent[]> {
  const notifying = events.filter((e) => NOTIFYING_EVENTS.has(e.type));
  if (notifying.length === 0) return [];
  // Ids drawn first, so each row is known to belong to its event (RETURNING promises no order).
  const ids = await sequelize.query<{ id: string; created_at: Date }>(`SELECT nextval('notifications_id_seq')::text AS id, now() AS created_at FROM generate_series(1, $1)`, {
    bind: [notifying.length],
    transaction: t,
    type: QueryTypes.SELECT,
  });
  await sequelize.query(`INSERT INTO notifications (id, wallet, type, payload) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[])`, {
    bind: [ids.map((r) => r.id), notifying.map((e) => e.wallet), notifying.map((e) => e.type), notifying.map((e) => JSON.stringify(e.data))],
    transaction: t,
  });
  return notifying.map((e, i) => ({
    wallet: e.wallet,
    type: "notification.created",
    data: { notificationId: ids[i]!.id, type: e.type, payload: e.data, createdAt: new Date(ids[i]!.created_at).toISOString() },
  }));
}
