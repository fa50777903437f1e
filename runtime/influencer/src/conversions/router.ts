// POST /api/v1/conversions — merchant servers report orders, signed with MERCHANT_SIGNING_KEYS
// (contract 3). Same orderId + same body: the same answer; different body: 409.
import { Router } from "express";
import Joi from "joi";
import { requireSignedRequest, validateRequest } from "@twist/service";
import { isAmount, parseAmount } from "@twist/shared/amount";
import type { AppContext } from "../app";
import { linkCode } from "../links/schemas";

export function conversionSchema(currencies: readonly string[]) {
  return Joi.object({
    orderId: Joi.string()
      .pattern(/^[A-Za-z0-9._:-]{1,128}$/)
      .required()
      .messages({ "string.pattern.base": "must be 1-128 of A-Z a-z 0-9 . _ : -" }),
    clickId: Joi.string().guid({ version: ["uuidv4"] }),
    linkCode,
    amount: Joi.any()
      .custom((value: unknown, helpers) => (isAmount(value) ? value : helpers.message({ custom: "must be a positive integer string of base units" })))
      .meta({ openapi: { $ref: "#/components/schemas/Amount" } })
      .required(),
    currency: Joi.string()
      .valid(...currencies)
      .required(),
  })
    .xor("clickId", "linkCode")
    .required();
}

export function conversionsRouter(ctx: AppContext): Router {
  const { conversions } = ctx;
  const router = Router();
  const schema = conversionSchema(ctx.config.CONVERSION_CURRENCIES);

  router.post("/api/v1/conversions", requireSignedRequest(ctx.config.MERCHANT_SIGNING_KEYS), validateRequest({ body: schema }), async (req, res) => {
    const body = req.valid.body as { orderId: string; clickId?: string; linkCode?: string; amount: string; currency: string };
    const { conversion, replayed } = await conversions.book({ ...body, amount: parseAmount(body.amount) });
    if (replayed) res.setHeader("Idempotent-Replayed", "true");
    res.status(201).json(conversion);
  });

  return router;
}
