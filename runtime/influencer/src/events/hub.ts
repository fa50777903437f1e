// The sockets of this instance, by wallet and by client IP: the per-wallet and per-IP caps, the
// fan-out of channel messages to the wallet's sockets, heartbeats, and closing everything on shutdown.
import { Counter, Gauge, type Registry } from "prom-client";
import type { WebSocket } from "ws";
import { EVENTS_CLOSE, type EventFrame } from "@twist/shared/events";
import type { Logger } from "@twist/shared/logger";
import { EventConnection, type ConnectionLimits } from "./connection";
import type { EventLog } from "./log";
import type { ChannelMessage } from "./record";

export interface HubLimits extends ConnectionLimits {
  maxSocketsPerWallet: number;
  maxSocketsPerIp: number;
  pingIntervalMs: number;
}

export class EventHub {
  private readonly byWallet = new Map<string, Set<EventConnection>>();
  /** Sockets per IP, counted from the upgrade on (before authentication) until close. */
  private readonly byIp = new Map<string, number>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly sockets: Gauge;
  private readonly delivered: Counter;
  private readonly dropped: Counter;
  /** Publication time -> delivery, for the benchmark and the metrics. */
  readonly onDelivered: ((frame: EventFrame) => void)[] = [];

  constructor(
    private readonly log: EventLog,
    readonly limits: HubLimits,
    private readonly logger: Logger,
    registry?: Registry,
  ) {
    const registers = registry ? [registry] : [];
    this.sockets = new Gauge({ name: "events_sockets", help: "Authenticated events sockets on this instance", registers });
    this.delivered = new Counter({ name: "events_delivered_total", help: "Event frames sent to sockets", registers });
    this.dropped = new Counter({ name: "events_slow_consumers_total", help: "Sockets dropped for passing the send-buffer bound", registers });
    this.heartbeat = setInterval(() => this.ping(), limits.pingIntervalMs);
    this.heartbeat.unref();
  }

  /** Counts a new socket of `ip`; false when the IP is at its cap. Release with releaseIp. */
  admitIp(ip: string): boolean {
    const n = this.byIp.get(ip) ?? 0;
    if (n >= this.limits.maxSocketsPerIp) return false;
    this.byIp.set(ip, n + 1);
    return true;
  }

  releaseIp(ip: string): void {
    const n = (this.byIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.byIp.delete(ip);
    else this.byIp.set(ip, n);
  }

  walletIsFull(wallet: string): boolean {
    return (this.byWallet.get(wallet)?.size ?? 0) >= this.limits.maxSocketsPerWallet;
  }

  /** Registers an authenticated socket (its IP is already admitted) and starts its stream. */
  async open(ws: WebSocket, wallet: string, ip: string, lastEventId: bigint | null, expiresAt: number): Promise<EventConnection> {
    const conn = new EventConnection(
      ws,
      wallet,
      ip,
      this.log,
      this.limits,
      {
        onSent: (frame) => {
          this.delivered.inc();
          for (const fn of this.onDelivered) fn(frame);
        },
        onSlowConsumer: () => {
          this.dropped.inc();
          this.logger.warn({ wallet }, "events socket dropped: the client does not read");
        },
      },
      this.logger,
    );
    let set = this.byWallet.get(wallet);
    if (!set) {
      set = new Set();
      this.byWallet.set(wallet, set);
    }
    set.add(conn);
    this.sockets.inc();
    ws.once("close", () => {
      set.delete(conn);
      if (set.size === 0 && this.byWallet.get(wallet) === set) this.byWallet.delete(wallet);
      this.sockets.dec();
    });
    await conn.start(lastEventId, expiresAt);
    return conn;
  }

  /** A message from the channel: frames inline, or an id range read back once for all sockets. */
  async dispatch(message: ChannelMessage): Promise<void> {
    const conns = this.byWallet.get(message.w);
    if (!conns?.size) return;
    const frames = "e" in message ? message.e : await this.log.after(message.w, BigInt(message.from) - 1n, Number(BigInt(message.to) - BigInt(message.from)) + 1);
    for (const conn of conns) conn.push(frames);
  }

  /** After the channel was down: every socket catches up from the log. */
  resync(): void {
    for (const conns of this.byWallet.values()) for (const conn of conns) void conn.catchUp();
  }

  get size(): number {
    let n = 0;
    for (const set of this.byWallet.values()) n += set.size;
    return n;
  }

  private ping(): void {
    for (const conns of this.byWallet.values()) {
      for (const conn of conns) {
        if (!conn.alive) {
          conn.ws.terminate();
          continue;
        }
        conn.alive = false;
        conn.ws.ping();
      }
    }
  }

  /** Closes every socket with 1001 "going away"; waits up to `graceMs` for the clients to answer. */
  async close(graceMs = 1000): Promise<void> {
    clearInterval(this.heartbeat);
    const all = [...this.byWallet.values()].flatMap((s) => [...s]);
    await Promise.all(
      all.map(
        (conn) =>
          new Promise<void>((resolve) => {
            if (conn.ws.readyState === conn.ws.CLOSED) return resolve();
            conn.ws.once("close", () => resolve());
            conn.close(EVENTS_CLOSE.GOING_AWAY, "server shutting down");
            setTimeout(() => {
              conn.ws.terminate();
              resolve();
            }, graceMs).unref();
          }),
      ),
    );
  }
}
