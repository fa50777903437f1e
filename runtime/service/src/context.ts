// Per-request context: a request id (honoured from X-Request-Id when well-formed) and a child logger
// that carries it, plus one access-log line per request. beginRequest works on Node's own request
// and response, so the front routes (front-routes.ts), which Express never sees, get the same.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "@twist/shared/logger";

declare global {
  namespace Express {
    interface Request {
      id: string;
      log: Logger;
      /** The exact bytes received, kept for signature checks (contract 3); never logged. */
      rawBody?: Buffer;
    }
  }
}

/** A request once beginRequest has run: its id and its logger. */
export type ContextRequest = IncomingMessage & { id: string; log: Logger };

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Gives `req` its id and logger, echoes the id, and logs the request once its response is sent. */
export function beginRequest(logger: Logger, req: IncomingMessage, res: ServerResponse): ContextRequest {
  const incoming = req.headers["x-request-id"];
  const id = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  const log = logger.child({ requestId: id });
  const started = process.hrtime.bigint();
  // Path only, as received (routers rewrite req.url on the way): query strings can carry tokens
  // (e.g. email verification).
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  const path = query === -1 ? url : url.slice(0, query);
  res.setHeader("X-Request-Id", id);
  res.on("finish", () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    log.info({ method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, "request");
  });
  const ready = req as ContextRequest;
  ready.id = id;
  ready.log = log;
  return ready;
}

export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    beginRequest(logger, req, res);
    next();
  };
}
