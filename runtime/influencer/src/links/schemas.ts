// Input schemas for referral links.
import Joi from "joi";
import { LINK_CODE_PATTERN } from "./code";

export const linkCode = Joi.string().pattern(LINK_CODE_PATTERN).messages({ "string.pattern.base": "is not a link code" });

export const createLinkBody = Joi.object({
  targetUrl: Joi.string()
    .max(2048)
    .uri({ scheme: ["http", "https"] })
    .required()
    .description("http(s), no credentials, host on the merchant allow-list"),
  productId: Joi.string()
    .pattern(/^[A-Za-z0-9._-]{1,64}$/)
    .messages({ "string.pattern.base": "must be 1-64 of A-Z a-z 0-9 . _ -" }),
  promoCode: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,64}$/)
    .messages({ "string.pattern.base": "must be 1-64 of A-Z a-z 0-9 _ -" }),
  expiresAt: Joi.date().iso().description("must be in the future"),
}).required();

export const listLinksQuery = Joi.object({
  limit: Joi.number().integer().min(1).max(100).default(50),
  offset: Joi.number().integer().min(0).max(100_000).default(0),
  active: Joi.boolean(),
});

export const codeParams = Joi.object({ code: linkCode.required() });

export interface CreateLinkInput {
  targetUrl: string;
  productId?: string;
  promoCode?: string;
  expiresAt?: Date;
}
