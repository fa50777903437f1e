// Durable Object migrations against the live script. The Workers API keeps one migration tag per
// script and refuses a migration whose tag it already has ("Migration tag precondition failed",
// code 10079), so a second `pulumi up` must not resend what the first applied. The declaration
// (runtime/edge/bindings.ts) is an append-only ledger of tagged steps; given the live tag, only
// the steps after it are sent, from `oldTag: live` to `newTag: last`.
import type * as cloudflare from "@pulumi/cloudflare";
import type { DurableObjectMigrationDecl } from "../../runtime/edge/bindings";

export type WorkerMigrations = cloudflare.types.input.WorkersScriptMigrations;
type Step = cloudflare.types.input.WorkersScriptMigrationsStep;

export class UnknownMigrationTagError extends Error {
  constructor(
    readonly scriptName: string,
    readonly liveTag: string,
    declared: readonly DurableObjectMigrationDecl[],
  ) {
    super(
      `Worker ${scriptName} is at Durable Object migration tag "${liveTag}", which runtime/edge/bindings.ts does not declare ` +
        `(declared: ${declared.map((m) => m.tag).join(", ") || "none"}). Someone deployed another ledger, or a deployed step was edited or removed: ` +
        "restore that step in `migrations` (steps are append-only) before deploying.",
    );
    this.name = "UnknownMigrationTagError";
  }
}

function step(m: DurableObjectMigrationDecl): Step {
  return {
    ...(m.newSqliteClasses?.length ? { newSqliteClasses: [...m.newSqliteClasses] } : {}),
    ...(m.renamedClasses?.length ? { renamedClasses: m.renamedClasses.map((r) => ({ from: r.from, to: r.to })) } : {}),
    ...(m.deletedClasses?.length ? { deletedClasses: [...m.deletedClasses] } : {}),
  };
}

/**
 * What to send for a script whose live tag is `liveTag` (undefined: the script does not exist or
 * never ran a migration). Undefined when the script is current, so nothing is re-applied.
 */
export function pendingMigrations(scriptName: string, declared: readonly DurableObjectMigrationDecl[], liveTag: string | undefined): WorkerMigrations | undefined {
  const last = declared[declared.length - 1];
  if (!last) return undefined;
  const from = liveTag ? declared.findIndex((m) => m.tag === liveTag) : -1;
  if (liveTag && from < 0) throw new UnknownMigrationTagError(scriptName, liveTag, declared);
  const pending = declared.slice(from + 1);
  if (pending.length === 0) return undefined;
  return { ...(liveTag ? { oldTag: liveTag } : {}), newTag: last.tag, steps: pending.map(step) };
}
