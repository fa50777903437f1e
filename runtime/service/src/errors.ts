// The last middlewares: unknown routes and every thrown error become the contract 6 envelope.
// sendError writes it on Node's own response, so the front routes answer the same envelope.
import type { ServerResponse } from "node:http";
import type { NextFunction, Request, Response } from "express";
import { ApiError, notFound, toErrorResponse, validationError } from "@twist/shared/errors";
import type { ContextRequest } from "./context";

export function notFoundHandler(req: Request, _res: Response, next: NextFunction) {
  next(notFound(`no route for ${req.method} ${req.path}`));
}

/**
 * Express and body-parser refuse some malformed requests themselves, with an error carrying a 4xx
 * `status` (a path parameter that is not valid percent-encoding, a gzip/deflate body that does not
 * inflate): the client's fault, so 400 VALIDATION_ERROR rather than a 500.
 */
function malformedRequest(err: unknown): ApiError | null {
  if (err instanceof ApiError || !err || typeof err !== "object") return null;
  const status = (err as { status?: unknown }).status;
  if (typeof status !== "number" || status < 400 || status > 499) return null;
  return validationError("the request is malformed", { reason: "MALFORMED_REQUEST" });
}

/** Answers `err` as the envelope (a 500 that hides its message unless it is an ApiError, and logs it). */
export function sendError(req: Partial<Pick<ContextRequest, "id" | "log">>, res: ServerResponse, err: unknown): void {
  const { status, body, headers } = toErrorResponse(malformedRequest(err) ?? err, req.id ?? "unknown");
  if (status >= 500 && !(err instanceof ApiError)) {
    req.log?.error({ err }, "unhandled error");
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  const json = JSON.stringify(body);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(json));
  res.end(json);
}

export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction) {
  sendError(req, res, err);
}
