// Contract 3 as middleware: the route accepts only requests signed with one of `keys`. Runs after
// jsonBody, which keeps the raw bytes the signature covers.
import type { NextFunction, Request, Response } from "express";
import { unauthorized } from "@twist/shared/errors";
import { verifySignedRequest } from "@twist/shared/signed-request";

export function requireSignedRequest(keys: readonly string[]) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const check = await verifySignedRequest(
      {
        method: req.method,
        target: req.originalUrl,
        body: req.rawBody ?? Buffer.alloc(0),
        timestamp: req.get("x-timestamp") ?? null,
        signature: req.get("x-signature") ?? null,
      },
      keys,
    );
    if (!check.ok) return next(unauthorized(check.message, { reason: check.reason }));
    next();
  };
}
