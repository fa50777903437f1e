// Which events also leave a notification (a row the wallet reads and marks read later), and what it
// keeps of the event. Everything else is real-time only.
import type { EventType } from "@twist/shared/events";

export const NOTIFYING_EVENTS: ReadonlySet<EventType> = new Set(["payout.settled", "payout.failed", "commission.received"]);
