// The publish hook: recordEvents(t, events) inside the transaction that causes them.
//   1. events of a notifying type also create their notification rows (and a notification.created event);
//   2. each wallet's head row is advanced by its number of events (a row lock held until commit:
//      a wallet's ids commit in increasing order), which assigns the ids;
//   3. the events go into the bounded replay log, with one pg_notify per wallet; every PRUNE_STEP
//      ids, a wallet's events past the count bound are deleted (the age bound: EventLog);
//   2 and 3 are one statement.
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

/** Per wallet: its frames inline when they fit in a NOTIFY payload, else their id range. */
const NOTIFY = `pg_notify('${EVENTS_CHANNEL}', CASE WHEN octet_length(inline) <= ${MAX_INLINE_PAYLOAD} THEN inline
  ELSE json_build_object('w', wallet, 'from', first::text, 'to', last::text)::text END)`;

export async function recordEvents(t: Transaction, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const sequelize = sequelizeOf(t);
  const all = [...events, ...(await createNotifications(sequelize, t, events))];
  // Steps 2 and 3 in one statement, the frames and NOTIFY payloads built by Postgres: per event the
  // process sends only its wallet, type and data (the data as one JSON array). Data-modifying CTEs
  // share one snapshot, so the prune sees only rows stored before this statement; events of this
  // statement already past the count bound (more than REPLAY_LOG_MAX_EVENTS to one wallet) are
  // published but not stored.
  await sequelize.query(
    `WITH at AS (SELECT date_trunc('milliseconds', now()) AS at),
     input AS (
       SELECT x.wallet, x.type, d.data, x.n
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(wallet, type, n)
       JOIN jsonb_array_elements($3::jsonb) WITH ORDINALITY AS d(data, n) ON d.n = x.n),
     counts AS (SELECT wallet, count(*) AS c FROM input GROUP BY wallet),
     heads AS (
       INSERT INTO wallet_event_heads AS h (wallet, last_id) SELECT wallet, c FROM counts ORDER BY wallet
       ON CONFLICT (wallet) DO UPDATE SET last_id = h.last_id + EXCLUDED.last_id
       RETURNING h.wallet, h.last_id),
     advanced AS (SELECT h.wallet, h.last_id, h.last_id - c.c AS before FROM heads h JOIN counts c ON c.wallet = h.wallet),
     numbered AS (
       SELECT i.wallet, i.type, i.data, h.last_id, h.before + row_number() OVER (PARTITION BY i.wallet ORDER BY i.n) AS id
       FROM input i JOIN advanced h ON h.wallet = i.wallet),
     inserted AS (
       INSERT INTO wallet_events (wallet, id, type, data, at)
       SELECT wallet, id, type, data, at.at FROM numbered, at WHERE id > last_id - ${REPLAY_LOG_MAX_EVENTS}),
     -- Only the count bound (an index range on (wallet, id)), and only for wallets whose head crossed a
     -- multiple of PRUNE_STEP: a descent per credited wallet on every delivery cost more than the credit.
     pruned AS (
       DELETE FROM wallet_events e USING advanced h
       WHERE e.wallet = h.wallet AND h.last_id > ${REPLAY_LOG_MAX_EVENTS} AND h.last_id / ${PRUNE_STEP} <> h.before / ${PRUNE_STEP}
         AND e.id <= h.last_id - ${REPLAY_LOG_MAX_EVENTS}),
     messages AS (
       SELECT wallet, min(id) AS first, max(id) AS last,
              json_build_object('w', wallet, 'e', json_agg(json_build_object('v', 1, 'type', type, 'id', id::text, 'at', to_char(at.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', data) ORDER BY id))::text AS inline
       FROM numbered, at GROUP BY wallet)
     SELECT count(${NOTIFY}) FROM messages`,
    {
      bind: [all.map((e) => e.wallet), all.map((e) => e.type), JSON.stringify(all.map((e) => e.data))],
      transaction: t,
    },
  );
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
