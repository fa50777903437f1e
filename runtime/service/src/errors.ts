// The last middlewares: unknown routes and every thrown error become the contract 6 envelope.
import type { NextFunction, Request, Response } from "express";
import { ApiError, notFound, toErrorResponse, validationError } from "@twist/shared/errors";

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

export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction) {
  const requestId = req.id ?? "unknown";
  const { status, body, headers } = toErrorResponse(malformedRequest(err) ?? err, requestId);
  if (status >= 500 && !(err instanceof ApiError)) {
    req.log?.error({ err }, "unhandled error");
  }
  if (res.headersSent) return res.end();
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.status(status).json(body);
}
