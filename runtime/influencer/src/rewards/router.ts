// POST /internal/v1/rewards: the edge queue consumer's delivery endpoint (contracts 3 and 4).
import { Router } from "express";
import { Counter } from "prom-client";
import { validationError } from "@twist/shared/errors";
import { MAX_DELIVERY_BATCH, type RewardDeliveryResponse } from "@twist/shared/messages";
import { requireSignedRequest } from "@twist/service";
import type { AppContext } from "../app";

export function rewardsRouter(ctx: AppContext): Router {
  const { credits } = ctx.money;
  const serviceKeys = ctx.config.SERVICE_SIGNING_KEYS;
  const { registry } = ctx.obs;
  // Per message outcome: `failed` is retried by the edge, `rejected` goes to its dead-letter queue.
  const outcomes = new Counter({
    name: "reward_credits_total",
    help: "Reward messages by outcome (credited, duplicate, rejected, failed)",
    labelNames: ["status"],
    registers: [registry],
  });
  for (const status of ["credited", "duplicate", "rejected", "failed"]) outcomes.inc({ status }, 0);
  const router = Router();
  router.post("/internal/v1/rewards", requireSignedRequest(serviceKeys), async (req, res) => {
    const body = req.body as { messages?: unknown } | undefined;
    const keys = body && typeof body === "object" && !Array.isArray(body) ? Object.keys(body) : [];
    if (!body || !Array.isArray(body.messages) || keys.length !== 1) {
      throw validationError("body must be {messages: [...]}", [{ field: "messages", message: "must be an array and the only field" }]);
    }
    if (body.messages.length === 0 || body.messages.length > MAX_DELIVERY_BATCH) {
      throw validationError(`messages must hold 1-${MAX_DELIVERY_BATCH} items`, [{ field: "messages", message: `must hold 1-${MAX_DELIVERY_BATCH} items` }]);
    }
    const response: RewardDeliveryResponse = { results: await credits.deliver(body.messages) };
    for (const result of response.results) outcomes.inc({ status: result.status });
    res.status(200).json(response);
  });
  return router;
}
