// /api/v1/notifications: the caller's notifications (cursor pagination, unread count) and marking
// them read, by ids or all. The wallet comes from the verified JWT only.
import { Router } from "express";
import { Joi } from "@twist/shared/config";
import { validateRequest } from "@twist/service";
import type { AppContext } from "../app";
import { identityOf } from "../identity";
import { NotificationStore } from "./store";

const ID = /^[1-9][0-9]{0,18}$/;
const listSchema = Joi.object({
  limit: Joi.number().integer().min(1).max(100).default(20),
  cursor: Joi.string().pattern(ID).message("is not a cursor this API returned").description("nextCursor of the previous page"),
  unread: Joi.boolean().default(false).description("only unread ones"),
});
const readSchema = Joi.alternatives()
  .try(Joi.object({ ids: Joi.array().items(Joi.string().pattern(ID)).min(1).max(100).unique().required() }), Joi.object({ all: Joi.valid(true).required() }))
  .required();

export function notificationsRouter(ctx: AppContext): Router {
  const { sequelize, identity: auth } = ctx;
  const router = Router();
  const store = new NotificationStore(sequelize);

  router.get("/api/v1/notifications", auth.requireIdentity, validateRequest({ query: listSchema }), async (req, res) => {
    const q = req.valid.query as { limit: number; cursor?: string; unread: boolean };
    res.json(await store.list(identityOf(req).walletAddress, { limit: q.limit, unreadOnly: q.unread, ...(q.cursor ? { before: BigInt(q.cursor) } : {}) }));
  });

  router.post("/api/v1/notifications/read", auth.requireIdentity, validateRequest({ body: readSchema }), async (req, res) => {
    const body = req.valid.body as { ids: string[] } | { all: true };
    res.json(await store.markRead(identityOf(req).walletAddress, "ids" in body ? { ids: body.ids.map(BigInt) } : { all: true }));
  });

  return router;
}
