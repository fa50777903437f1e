// Joi validation of request input; failures become one 400 listing every bad field.
// validateRequest is the one way a route validates its input: the same schemas are the request
// schemas of the route's operation in the OpenAPI document it serves (openapi-requests.ts).
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type Joi from "joi";
import { validationError } from "@twist/shared/errors";

declare global {
  namespace Express {
    interface Request {
      /** What validateRequest accepted, converted by its schemas (trimmed, defaulted, amounts as bigint). */
      valid: { params?: unknown; query?: unknown; body?: unknown };
    }
  }
}

export function validate<T>(schema: Joi.Schema<T>, input: unknown): T {
  const { error, value } = schema.validate(input, { abortEarly: false, stripUnknown: false, convert: true });
  if (error) {
    throw validationError(
      "request is invalid",
      error.details.map((d) => ({ field: d.path.join(".") || "(body)", message: d.message.replace(/^"[^"]*" /, "") })),
    );
  }
  return value as T;
}

/** The schemas of one route's input, each optional. */
export interface RequestSchemas {
  params?: Joi.ObjectSchema;
  query?: Joi.ObjectSchema;
  body?: Joi.Schema;
}

export type ValidatingHandler = RequestHandler & { requestSchemas: RequestSchemas };

const PARTS = ["params", "query", "body"] as const;

/**
 * Validates params, then query, then body (the first bad part is the 400) into `req.valid`. The raw
 * `req.body` stays as received: idempotency hashes and signatures are over what the client sent.
 * A body whose schema is optional is `{}` when the request has none.
 */
export function validateRequest(schemas: RequestSchemas): ValidatingHandler {
  const bodyOptional = (schemas.body?.describe().flags as { presence?: string } | undefined)?.presence !== "required";
  const handler = (req: Request, _res: Response, next: NextFunction) => {
    const valid: Request["valid"] = {};
    for (const part of PARTS) {
      const schema = schemas[part];
      if (schema) valid[part] = validate(schema, part === "body" && req.body === undefined && bodyOptional ? {} : req[part]);
    }
    req.valid = valid;
    next();
  };
  return Object.assign(handler, { requestSchemas: schemas });
}
