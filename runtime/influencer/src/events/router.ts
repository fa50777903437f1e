// GET /api/v1/events without an upgrade: 426 with the envelope, saying how to connect. Upgrades never
// reach Express (the gateway takes them on the server's "upgrade" event).
import { Router } from "express";
import { ApiError } from "@twist/shared/errors";
import { EVENTS_SUBPROTOCOL } from "@twist/shared/events";
import { EVENTS_PATH } from "./gateway";

export function eventsRouter(): Router {
  const router = Router();
  router.get(EVENTS_PATH, () => {
    throw new ApiError("UPGRADE_REQUIRED", `this is a WebSocket: connect with Upgrade: websocket and Sec-WebSocket-Protocol: ${EVENTS_SUBPROTOCOL}`, {
      headers: { Upgrade: "websocket" },
    });
  });
  return router;
}
