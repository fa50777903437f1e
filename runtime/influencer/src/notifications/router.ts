// /api/v1/notifications: the caller's notifications (cursor pagination, unread count) and marking
// them read, by ids or all. The wallet comes from the verified JWT only.
import { Router } from "express";
import { Joi } from "@twist/shared/config";
import { validate } from "@twist/service";
import type { AppContext } from "../app";
import { identityOf } from "../identity";
import { NotificationStore } from "./store";

const ID = /^[1-9][0-9]{0,18}$/;
const listSchema = Joi.object({
  limit: Joi.number().integer().min(1).max(100).default(20),
  cursor: Joi.string().pattern(ID).message("is not a cursor this API returned"),
  unread: Joi.boolean().default(false),
});
const readSchema = Joi.alternatives().try(
  Joi.object({ ids: Joi.array().items(Joi.string().pattern(ID)).min(1).max(100).unique().required() }),
  Joi.object({ all: Joi.valid(true).required() }),
);

export function notificationsRouter(ctx: AppContext): Router {
  const { sequelize, identity: auth } = ctx;
  const router = Router();
  const store = new NotificationStore(sequelize);

  router.get("/api/v1/notifications", auth.requireIdentity, async (req, res) => {
    const q = validate(listSchema, req.query) as { limit: number; cursor?: string; unread: boolean };
    res.json(await store.list(identityOf(req).walletAddress, { limit: q.limit, unreadOnly: q.unread, ...(q.cursor ? { before: BigInt(q.cursor) } : {}) }));
  });

  router.post("/api/v1/notifications/read", auth.requireIdentity, async (req, res) => {
    const body = validate(readSchema, req.body) as { ids: string[] } | { all: true };
    res.json(await store.markRead(identityOf(req).walletAddress, "ids" in body ? { ids: body.ids.map(BigInt) } : { all: true }));
  });

  return router;
}
