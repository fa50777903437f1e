// The last middlewares: unknown routes and every thrown error become the contract 6 envelope.
import type { NextFunction, Request, Response } from "express";
import { ApiError, notFound, toErrorResponse } from "@twist/shared/errors";

export function notFoundHandler(req: Request, _res: Response, next: NextFunction) {
  next(notFound(`no route for ${req.method} ${req.path}`));
}

export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction) {
  const requestId = req.id ?? "unknown";
  const { status, body, headers } = toErrorResponse(err, requestId);
  if (status >= 500 && !(err instanceof ApiError)) {
    req.log?.error({ err }, "unhandled error");
  }
  if (res.headersSent) return res.end();
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.status(status).json(body);
}

