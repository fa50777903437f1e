// Contract 7: the real-time events of GET /api/v1/events (a WebSocket on the influencer API).
// Clients and the server import these names so both sides agree on frames and close codes.

export const EVENT_TYPES = [
  "reward.credited",
  "stake.changed",
  "claim.posted",
  "commission.received",
  "payout.pending",
  "payout.settled",
  "payout.failed",
  "notification.created",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** One event frame. `id` increases per wallet (a decimal string: it is a Postgres bigint). */
export interface EventFrame {
  v: 1;
  type: EventType;
  id: string;
  /** ISO-8601 time of the transaction that caused it. */
  at: string;
  data: Record<string, unknown>;
}

/**
 * Control frames carry `control`, never `type`, so an event handler can never mistake one for an
 * event: `ready` once authenticated (after any replay), `refetch` when the requested lastEventId is
 * older than the retained log (the client reloads its state over REST and carries on from lastEventId).
 */
export type ControlFrame =
  | { v: 1; control: "ready"; wallet: string; lastEventId: string; expiresAt: string }
  | { v: 1; control: "refetch"; reason: "REPLAY_WINDOW_EXCEEDED"; oldestEventId: string; lastEventId: string };

/** What a client may send: its token when it did not come in Sec-WebSocket-Protocol, or a fresh one. */
export interface AuthMessage {
  type: "auth";
  token: string;
  lastEventId?: string;
}

/** The subprotocol the server selects; the token travels as a second offered value `bearer.<jwt>`. */
export const EVENTS_SUBPROTOCOL = "twist.events.v1";
export const BEARER_SUBPROTOCOL_PREFIX = "bearer.";

/** Close codes of the events socket (4000-4999 are application codes, RFC 6455 section 7.4.2). */
export const EVENTS_CLOSE = {
  /** The server is shutting down or restarting: reconnect (to any instance) with lastEventId. */
  GOING_AWAY: 1001,
  /** The stream could not start (the replay log or Postgres unavailable): retry with backoff. */
  STREAM_UNAVAILABLE: 1011,
  /** A frame the server does not accept (not JSON, unknown type, too large). */
  BAD_MESSAGE: 4400,
  /** The token in the first message was refused; the close reason is the JwtFailure reason. */
  UNAUTHORIZED: 4401,
  /** The token expired while connected: sign in again, then reconnect with lastEventId. */
  TOKEN_EXPIRED: 4419,
  /** No auth message within the authentication window (5 s). */
  AUTH_TIMEOUT: 4408,
  /** The client did not read: its send buffer passed the bound. Reconnect with lastEventId. */
  SLOW_CONSUMER: 4413,
  /** The wallet already has the most sockets allowed on this instance. */
  TOO_MANY_SOCKETS: 4429,
} as const;

export function isEventType(value: unknown): value is EventType {
  return typeof value === "string" && (EVENT_TYPES as readonly string[]).includes(value);
}
