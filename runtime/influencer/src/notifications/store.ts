// A wallet's notifications: newest first with a cursor (the last id of the page), the unread count,
// and marking read by ids or all. Rows are written by recordEvents (events/record.ts) only.
import { QueryTypes, type Sequelize } from "sequelize";

export interface NotificationView {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

interface Row {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  created_at: Date;
  read_at: Date | null;
}

const view = (r: Row): NotificationView => ({
  id: r.id,
  type: r.type,
  payload: r.payload,
  createdAt: new Date(r.created_at).toISOString(),
  readAt: r.read_at ? new Date(r.read_at).toISOString() : null,
});

export class NotificationStore {
  constructor(private readonly sequelize: Sequelize) {}

  async list(
    wallet: string,
    query: { limit: number; before?: bigint; unreadOnly: boolean },
  ): Promise<{ notifications: NotificationView[]; nextCursor: string | null; unreadCount: number }> {
    const rows = await this.sequelize.query<Row>(
      `SELECT n.id::text AS id, type, payload, created_at, read_at FROM notifications n
       WHERE wallet = $1 AND ($2::bigint IS NULL OR n.id < $2::bigint) AND (NOT $3 OR read_at IS NULL)
       ORDER BY n.id DESC LIMIT $4`,
      { bind: [wallet, query.before?.toString() ?? null, query.unreadOnly, query.limit + 1], type: QueryTypes.SELECT },
    );
    const page = rows.slice(0, query.limit);
    return { notifications: page.map(view), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null, unreadCount: await this.unreadCount(wallet) };
  }

  /** Marks the wallet's own notifications read (another wallet's ids change nothing); returns how many changed. */
  async markRead(wallet: string, target: { ids: bigint[] } | { all: true }): Promise<{ updated: number; unreadCount: number }> {
    const ids = "ids" in target ? target.ids.map(String) : null;
    const rows = await this.sequelize.query<{ id: string }>(
      `UPDATE notifications SET read_at = now()
       WHERE wallet = $1 AND read_at IS NULL AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[])) RETURNING id`,
      { bind: [wallet, ids], type: QueryTypes.SELECT },
    );
    return { updated: rows.length, unreadCount: await this.unreadCount(wallet) };
  }

  private async unreadCount(wallet: string): Promise<number> {
    const [row] = await this.sequelize.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications WHERE wallet = $1 AND read_at IS NULL`, {
      bind: [wallet],
      type: QueryTypes.SELECT,
    });
    return row?.n ?? 0;
  }
}
