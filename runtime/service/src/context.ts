// Per-request context: a request id (honoured from X-Request-Id when well-formed) and a child logger
// that carries it, plus one access-log line per request.
import { randomUUID } from "node:crypto";
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

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get("x-request-id");
    req.id = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.log = logger.child({ requestId: req.id });
    res.setHeader("X-Request-Id", req.id);
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // Path only: query strings can carry tokens (e.g. email verification).
      req.log.info({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, "request");
    });
    next();
  };
}
