// JSON bodies with a size limit, keeping the raw bytes for signature verification. Malformed or
// oversized bodies are 400 VALIDATION_ERROR with a reason, never a 500.
import express, { type NextFunction, type Request, type Response } from "express";
import { validationError } from "@twist/shared/errors";

export function jsonBody(limitBytes = 64 * 1024) {
  const parse = express.json({
    limit: limitBytes,
    strict: true,
    type: () => true,
    verify: (req, _res, buf) => {
      (req as Request).rawBody = buf;
    },
  });
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === "GET" || req.method === "HEAD" || req.method === "DELETE") return next();
    parse(req, res, (err?: unknown) => {
      if (!err) {
        req.rawBody ??= Buffer.alloc(0);
        return next();
      }
      const type = (err as { type?: string }).type;
      if (type === "entity.too.large") return next(validationError(`request body exceeds ${limitBytes} bytes`, { reason: "BODY_TOO_LARGE" }));
      if (type === "entity.parse.failed") return next(validationError("request body is not valid JSON", { reason: "BAD_JSON" }));
      if (type === "encoding.unsupported" || type === "charset.unsupported") return next(validationError("unsupported body encoding"));
      return next(err);
    });
  };
}
