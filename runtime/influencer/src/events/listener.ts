// LISTEN on the events channel with a dedicated Postgres connection (a pooled one would be handed
// back and lose its LISTEN). When the connection drops it reconnects with backoff and asks the hub to
// resync: notifications sent while it was down are gone, the replay log is not.
import pg from "pg";
import type { Logger } from "@twist/shared/logger";
import { EVENTS_CHANNEL, type ChannelMessage } from "./record";

export interface ListenerHandlers {
  onMessage(message: ChannelMessage): void;
  /** Called after a reconnection (not the first connection). */
  onReconnect(): void;
}

export class ChannelListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private retryMs = 250;
  private connectedOnce = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly handlers: ListenerHandlers,
    private readonly logger: Logger,
  ) {}

  /** Resolves once listening; later failures only reconnect. */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: "twist-events-listener" });
    client.on("notification", (n) => {
      if (n.channel !== EVENTS_CHANNEL || !n.payload) return;
      try {
        this.handlers.onMessage(JSON.parse(n.payload) as ChannelMessage);
      } catch (err) {
        this.logger.error({ err }, "unreadable events channel message");
      }
    });
    client.on("error", (err) => this.lost(client, err));
    client.on("end", () => this.lost(client, new Error("connection ended")));
    await client.connect();
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    this.client = client;
    this.retryMs = 250;
    if (this.connectedOnce) {
      this.logger.info("events channel listening again; resyncing sockets");
      this.handlers.onReconnect();
    }
    this.connectedOnce = true;
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.client !== client || this.stopped) return;
    this.client = null;
    this.logger.warn({ err }, "events channel connection lost; reconnecting");
    client.end().catch(() => undefined);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.retry = setTimeout(() => {
      this.connect().catch((err: unknown) => {
        this.logger.debug({ err }, "events channel reconnect failed");
        this.retryMs = Math.min(this.retryMs * 2, 5000);
        this.scheduleRetry();
      });
    }, this.retryMs);
    this.retry.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
