// Input schemas for the influencer routes (joi, strict: unknown fields are rejected).
import Joi from "joi";

/** Lowercase letters, digits and underscore; "me" is a route, not a name. */
export const USERNAME_PATTERN = /^[a-z0-9_]{3,32}$/;
const RESERVED = ["me", "verify-email", "admin", "api", "twist"];

export const username = Joi.string()
  .trim()
  .lowercase()
  .pattern(USERNAME_PATTERN)
  .invalid(...RESERVED)
  .messages({
    "string.pattern.base": "must be 3-32 of a-z, 0-9 and _",
    "any.invalid": "is reserved",
  })
  .description(`lowercased on input; ${RESERVED.join(", ")} are reserved`);
// Free text, stored as given through bound parameters; control characters are refused.
const displayName = Joi.string()
  .trim()
  .min(1)
  .max(80)
  .pattern(/^[^\p{Cc}]+$/u)
  .messages({ "string.pattern.base": "must not contain control characters" });
const email = Joi.string().trim().lowercase().max(254).email({ tlds: false });

export const registerBody = Joi.object({
  username: username.required(),
  displayName: displayName.required(),
  email: email.required(),
}).required();

export const updateBody = Joi.object({
  displayName: displayName.optional(),
  email: email.optional(),
})
  .min(1)
  .required();

export const verifyEmailBody = Joi.object({
  token: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{43}$/)
    .required()
    .messages({ "string.pattern.base": "is not a verification token" }),
}).required();

export const usernameParams = Joi.object({ username: username.required() });

export interface RegisterInput {
  username: string;
  displayName: string;
  email: string;
}
