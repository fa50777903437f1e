// VauDedupe, the dedupe shard class of migration v1, kept only so its live claims expire instead of
// being deleted by the deploy that introduced the WalletGate (bindings.ts, migration v2). Nothing
// calls it any more; its pending alarms delete expired claims until none are left, then its storage.
// A later version deletes the class (a deletedClasses step) once every claim has expired.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

const SWEEP_SLACK_MS = 60_000;

export class VauDedupe extends DurableObject<Env> {
  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const table = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'seen'").one().n;
    if (table === 0) return;
    sql.exec("DELETE FROM seen WHERE expires <= ?", Date.now());
    const next = sql.exec<{ next: number | null }>("SELECT MIN(expires) AS next FROM seen").one().next;
    if (next === null) await this.ctx.storage.deleteAll();
    else await this.ctx.storage.setAlarm(next + SWEEP_SLACK_MS);
  }
}
