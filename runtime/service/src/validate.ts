// Joi validation of request input; failures become one 400 listing every bad field.
import type Joi from "joi";
import { validationError } from "@twist/shared/errors";

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
