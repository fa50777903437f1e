// One authenticated events socket. It sends the wallet's frames strictly in id order, each once:
// frames pushed by the hub are sent when they follow the last one sent; on a gap (a listener
// reconnect, an id range that had to be read back, a replay still running) it catches up from the
// replay log instead. Nothing is queued in memory beyond what the socket itself buffers, and that
// is bounded: past maxBufferedBytes the client is dropped (it reconnects with lastEventId).
import type { WebSocket } from "ws";
import { EVENTS_CLOSE, type ControlFrame, type EventFrame } from "@twist/shared/events";
import type { Logger } from "@twist/shared/logger";
import type { EventLog } from "./log";

export interface ConnectionLimits {
  maxBufferedBytes: number;
}

export interface ConnectionHooks {
  onSent(frame: EventFrame): void;
  onSlowConsumer(): void;
}

export class EventConnection {
  private lastSent = 0n;
  /** Highest id pushed while catching up; another round runs when it passes lastSent. */
  private maxSeen = 0n;
  private catchingUp = true;
  private closed = false;
  private expiry: NodeJS.Timeout | undefined;
  /** Heartbeat: cleared on each ping, set by the pong. */
  alive = true;

  constructor(
    readonly ws: WebSocket,
    readonly wallet: string,
    readonly ip: string,
    private readonly log: EventLog,
    private readonly limits: ConnectionLimits,
    private readonly hooks: ConnectionHooks,
    private readonly logger: Logger,
  ) {
    ws.on("pong", () => (this.alive = true));
    ws.once("close", () => this.dispose());
  }

  /**
   * Starts the stream: replays what followed `lastEventId`, or (without one) starts at the head.
   * Runs after the hub registered the socket, so nothing committed meanwhile is missed.
   */
  async start(lastEventId: bigint | null, expiresAt: number): Promise<void> {
    this.expireAt(expiresAt);
    const head = await this.log.head(this.wallet);
    if (lastEventId === null) {
      this.lastSent = head;
    } else {
      const oldest = await this.log.gapAfter(this.wallet, lastEventId, head);
      if (oldest === null) this.lastSent = lastEventId;
      else {
        this.control({ v: 1, control: "refetch", reason: "REPLAY_WINDOW_EXCEEDED", oldestEventId: oldest.toString(), lastEventId: head.toString() });
        this.lastSent = head;
      }
    }
    // Nothing to replay without a lastEventId, unless something committed since the head was read.
    if (lastEventId !== null || this.maxSeen > this.lastSent) await this.catchUp();
    else this.catchingUp = false;
    this.control({ v: 1, control: "ready", wallet: this.wallet, lastEventId: this.lastSent.toString(), expiresAt: new Date(expiresAt).toISOString() });
  }

  /** Frames of this wallet from the channel, in id order. */
  push(frames: readonly EventFrame[]): void {
    if (this.closed || frames.length === 0) return;
    const last = BigInt(frames[frames.length - 1]!.id);
    if (last > this.maxSeen) this.maxSeen = last;
    if (this.catchingUp) return;
    for (const f of frames) {
      const id = BigInt(f.id);
      if (id <= this.lastSent) continue;
      if (id !== this.lastSent + 1n) {
        this.catchingUp = true;
        void this.catchUp();
        return;
      }
      if (!this.send(f)) return;
    }
  }

  /** Reads the log from lastSent until caught up with everything pushed meanwhile. */
  async catchUp(): Promise<void> {
    this.catchingUp = true;
    try {
      for (let idle = 0; ; ) {
        const frames = await this.log.after(this.wallet, this.lastSent);
        const first = frames[0] ? BigInt(frames[0].id) : null;
        // The log was pruned past what this client has (over the bound within one burst): say so.
        if (first !== null && first > this.lastSent + 1n) {
          this.control({ v: 1, control: "refetch", reason: "REPLAY_WINDOW_EXCEEDED", oldestEventId: first.toString(), lastEventId: frames[frames.length - 1]!.id });
        }
        for (const f of frames) if (!this.send(f)) return;
        if (frames.length === 0 && this.maxSeen <= this.lastSent) break;
        if (frames.length > 0) continue;
        // Pushed ids the log does not show: their commit is not visible to this read yet.
        if (++idle > 200) throw new Error(`events up to ${this.maxSeen} were announced but never became readable`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } catch (err) {
      this.logger.warn({ err }, "events catch-up failed; closing the socket so the client reconnects");
      this.close(EVENTS_CLOSE.GOING_AWAY, "catch-up failed");
    } finally {
      this.catchingUp = false;
    }
  }

  /** A fresh token for the same wallet extends the connection. */
  expireAt(expiresAt: number): void {
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => this.close(EVENTS_CLOSE.TOKEN_EXPIRED, "token expired"), Math.max(0, Math.min(expiresAt - Date.now(), 2 ** 31 - 1)));
    this.expiry.unref();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.dispose();
    this.ws.close(code, reason);
    // A client that does not read never receives the close frame either.
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private send(frame: EventFrame): boolean {
    if (!this.write(JSON.stringify(frame))) return false;
    this.lastSent = BigInt(frame.id);
    this.hooks.onSent(frame);
    return true;
  }

  private control(frame: ControlFrame): void {
    this.write(JSON.stringify(frame));
  }

  private write(text: string): boolean {
    if (this.closed) return false;
    if (this.ws.bufferedAmount + Buffer.byteLength(text) > this.limits.maxBufferedBytes) {
      this.hooks.onSlowConsumer();
      this.close(EVENTS_CLOSE.SLOW_CONSUMER, "send buffer over its bound");
      return false;
    }
    this.ws.send(text);
    return true;
  }

  private dispose(): void {
    this.closed = true;
    clearTimeout(this.expiry);
  }
}
