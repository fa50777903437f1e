// GET /api/v1/events: the WebSocket upgrade on the API's own HTTP server. Checks in order, each
// refusing the upgrade with the error envelope (an HTTP answer, so a client sees why):
//   path, shutting down (503), a token in the query string (400: it would reach access logs),
//   lastEventId (400), Origin (403), the per-IP cap (429), and when the token comes in
//   Sec-WebSocket-Protocol (`bearer.<jwt>`) the token (401) and the per-wallet cap (429).
// Without a protocol token the socket opens and must send {"type":"auth","token"} within
// EVENTS_AUTH_TIMEOUT_MS; a refusal then is a close code (EVENTS_CLOSE in @twist/shared/events).
import { randomUUID } from "node:crypto";
import { STATUS_CODES, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import type { Sequelize } from "sequelize";
import type { Registry } from "prom-client";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { clientIp } from "@twist/service";
import { ApiError, forbidden, notFound, rateLimited, toErrorResponse, unavailable, validationError } from "@twist/shared/errors";
import { BEARER_SUBPROTOCOL_PREFIX, EVENTS_CLOSE, EVENTS_SUBPROTOCOL } from "@twist/shared/events";
import type { Logger } from "@twist/shared/logger";
import type { InfluencerConfig } from "../config";
import type { IdentityMiddlewares, VerifiedToken } from "../identity";
import { EventHub } from "./hub";
import { ChannelListener } from "./listener";
import { EventLog } from "./log";

export const EVENTS_PATH = "/api/v1/events";
const QUERY_TOKEN_NAMES = ["token", "access_token", "accesstoken", "jwt", "authorization", "bearer"];
const EVENT_ID = /^(0|[1-9][0-9]{0,18})$/;
const MAX_CLIENT_FRAME_BYTES = 16 * 1024;
const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

export interface EventsGatewayOptions {
  config: InfluencerConfig;
  identity: IdentityMiddlewares;
  sequelize: Sequelize;
  logger: Logger;
  registry?: Registry;
}

export class EventsGateway {
  readonly hub: EventHub;
  private readonly log: EventLog;
  private readonly listener: ChannelListener;
  private readonly wss: WebSocketServer;
  private readonly allowedOrigins: Set<string>;
  /** Opened, not authenticated yet (first-message auth). */
  private readonly unauthenticated = new Set<WebSocket>();
  private closing = false;
  private prune: NodeJS.Timeout | undefined;

  constructor(private readonly options: EventsGatewayOptions) {
    const { config, sequelize, logger } = options;
    this.log = new EventLog(sequelize);
    this.hub = new EventHub(
      this.log,
      {
        maxSocketsPerWallet: config.EVENTS_MAX_SOCKETS_PER_WALLET,
        maxSocketsPerIp: config.EVENTS_MAX_SOCKETS_PER_IP,
        maxBufferedBytes: config.EVENTS_MAX_BUFFERED_BYTES,
        pingIntervalMs: config.EVENTS_PING_INTERVAL_MS,
      },
      logger,
      options.registry,
    );
    this.listener = new ChannelListener(
      config.DATABASE_URL,
      { onMessage: (m) => void this.hub.dispatch(m).catch((err: unknown) => logger.warn({ err }, "events dispatch failed")), onReconnect: () => this.hub.resync() },
      logger,
    );
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: MAX_CLIENT_FRAME_BYTES,
      perMessageDeflate: false,
      handleProtocols: (offered) => (offered.has(EVENTS_SUBPROTOCOL) ? EVENTS_SUBPROTOCOL : false),
    });
    this.allowedOrigins = new Set(config.EVENTS_ALLOWED_ORIGINS ?? [new URL(config.PUBLIC_BASE_URL).origin.toLowerCase()]);
  }

  /** Starts listening on the events channel (before `attach`, so no socket misses an event). */
  async start(): Promise<void> {
    await this.listener.start();
  }

  /** Takes upgrades on `server`: pass it to `listen` as `prepare`, so the first upgrade finds it. */
  attach(server: Server): void {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head));
    this.prune = setInterval(() => void this.log.pruneExpired().catch((err: unknown) => this.options.logger.warn({ err }, "events log prune failed")), PRUNE_INTERVAL_MS);
    this.prune.unref();
  }

  /** Closes every socket with 1001 "going away" and stops listening. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.prune);
    for (const ws of this.unauthenticated) ws.close(EVENTS_CLOSE.GOING_AWAY, "server shutting down");
    await this.hub.close();
    await this.listener.stop();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", (err) => this.options.logger.debug({ err }, "events upgrade socket error"));
    const requestId = randomUUID();
    const url = new URL(req.url ?? "/", "http://upgrade.invalid");
    if (url.pathname !== EVENTS_PATH) return refuse(socket, notFound("no WebSocket at this path"), requestId);
    if (this.closing) return refuse(socket, unavailable("the server is shutting down; reconnect"), requestId);
    const queryToken = [...url.searchParams.keys()].find((k) => QUERY_TOKEN_NAMES.includes(k.toLowerCase()));
    if (queryToken) {
      return refuse(
        socket,
        validationError("a token is never accepted in the query string; send it in Sec-WebSocket-Protocol or the first message", [{ field: queryToken, message: "not allowed" }]),
        requestId,
      );
    }
    const lastEventIdText = url.searchParams.get("lastEventId");
    if (lastEventIdText !== null && !EVENT_ID.test(lastEventIdText)) {
      return refuse(socket, validationError("lastEventId is invalid", [{ field: "lastEventId", message: "must be an event id this API sent" }]), requestId);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.allowedOrigins.has(origin.toLowerCase())) {
      return refuse(socket, forbidden("this origin may not open the events socket", { reason: "ORIGIN_NOT_ALLOWED" }), requestId);
    }
    const ip = clientIp(req, this.options.config.TRUSTED_PROXY_HEADER);
    if (!this.hub.admitIp(ip)) return refuse(socket, rateLimited(10, "too many event sockets from this address"), requestId);

    let released = false;
    const release = () => {
      if (!released) this.hub.releaseIp(ip);
      released = true;
    };
    try {
      const lastEventId = lastEventIdText === null ? null : BigInt(lastEventIdText);
      const bearer = offeredProtocols(req).find((p) => p.startsWith(BEARER_SUBPROTOCOL_PREFIX));
      let claims: VerifiedToken | null = null;
      if (bearer) {
        claims = await this.options.identity.verifyToken(bearer.slice(BEARER_SUBPROTOCOL_PREFIX.length));
        if (this.hub.walletIsFull(claims.sub)) throw rateLimited(10, "this wallet has the most event sockets allowed");
      }
      if (socket.destroyed) return release();
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        ws.once("close", release);
        ws.on("error", (err) => this.options.logger.debug({ err }, "events socket error"));
        if (claims) void this.open(ws, claims, ip, lastEventId);
        else this.awaitAuth(ws, ip, lastEventId);
      });
    } catch (err) {
      release();
      if (!(err instanceof ApiError)) this.options.logger.error({ err }, "events upgrade failed");
      refuse(socket, err, requestId);
    }
  }

  /** First-message authentication: {"type":"auth","token","lastEventId"?} within the timeout. */
  private awaitAuth(ws: WebSocket, ip: string, lastEventId: bigint | null): void {
    this.unauthenticated.add(ws);
    const timer = setTimeout(() => ws.close(EVENTS_CLOSE.AUTH_TIMEOUT, "authenticate within the time allowed"), this.options.config.EVENTS_AUTH_TIMEOUT_MS);
    ws.once("close", () => {
      clearTimeout(timer);
      this.unauthenticated.delete(ws);
    });
    ws.once("message", (data: RawData, isBinary: boolean) => {
      clearTimeout(timer);
      const message = authMessage(data, isBinary);
      if (!message) return ws.close(EVENTS_CLOSE.BAD_MESSAGE, 'expected {"type":"auth","token"}');
      this.options.identity.verifyToken(message.token).then(
        (claims) => {
          this.unauthenticated.delete(ws);
          if (this.hub.walletIsFull(claims.sub)) return ws.close(EVENTS_CLOSE.TOO_MANY_SOCKETS, "this wallet has the most event sockets allowed");
          void this.open(ws, claims, ip, message.lastEventId ?? lastEventId);
        },
        (err: unknown) => ws.close(EVENTS_CLOSE.UNAUTHORIZED, reasonOf(err)),
      );
    });
  }

  private async open(ws: WebSocket, claims: VerifiedToken, ip: string, lastEventId: bigint | null): Promise<void> {
    if (this.closing) return ws.close(EVENTS_CLOSE.GOING_AWAY, "server shutting down");
    // After authentication a client may only send a fresh token for the same wallet. Tokens are
    // verified concurrently but applied in the order they arrived: the last one sent wins.
    let applied: Promise<unknown> = Promise.resolve();
    ws.on("message", (data: RawData, isBinary: boolean) => {
      const message = authMessage(data, isBinary);
      if (!message) return ws.close(EVENTS_CLOSE.BAD_MESSAGE, 'only {"type":"auth","token"} is accepted');
      const verified = this.options.identity.verifyToken(message.token);
      applied = applied
        .then(() =>
          verified.then(
            (fresh) => (fresh.sub === claims.sub ? conn.then((c) => c.expireAt(fresh.exp * 1000)) : ws.close(EVENTS_CLOSE.UNAUTHORIZED, "TOKEN_CLAIMS")),
            (err: unknown) => ws.close(EVENTS_CLOSE.UNAUTHORIZED, reasonOf(err)),
          ),
        )
        .catch(() => undefined); // a stream that could not start has closed the socket already (below)
    });
    const conn = this.hub.open(ws, claims.sub, ip, lastEventId, claims.exp * 1000);
    await conn.catch((err: unknown) => {
      this.options.logger.warn({ err }, "events stream could not start");
      ws.close(EVENTS_CLOSE.STREAM_UNAVAILABLE, "events are unavailable; reconnect");
    });
  }
}

function offeredProtocols(req: IncomingMessage): string[] {
  return (req.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

function authMessage(data: RawData, isBinary: boolean): { token: string; lastEventId?: bigint } | null {
  if (isBinary) return null;
  try {
    const m = JSON.parse(String(data)) as Record<string, unknown>;
    if (m?.type !== "auth" || typeof m.token !== "string" || m.token.length > 4096) return null;
    if (m.lastEventId !== undefined && !(typeof m.lastEventId === "string" && EVENT_ID.test(m.lastEventId))) return null;
    return { token: m.token, ...(m.lastEventId !== undefined ? { lastEventId: BigInt(m.lastEventId as string) } : {}) };
  } catch {
    return null;
  }
}

/** The JwtFailure reason (close reasons are short): TOKEN_EXPIRED, TOKEN_SIGNATURE, ... */
function reasonOf(err: unknown): string {
  const details = err instanceof ApiError ? (err.details as { reason?: unknown } | undefined) : undefined;
  return typeof details?.reason === "string" ? details.reason : "UNAUTHORIZED";
}

/** Answers the upgrade request with the error envelope and closes the connection. */
function refuse(socket: Duplex, err: unknown, requestId: string): void {
  if (socket.destroyed) return;
  const { status, body, headers } = toErrorResponse(err, requestId);
  const text = JSON.stringify(body);
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      `X-Request-Id: ${requestId}\r\nConnection: close\r\n${extra}\r\n${text}`,
  );
}
