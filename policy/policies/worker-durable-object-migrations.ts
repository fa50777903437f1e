// Every Durable Object class a Worker binds is created by a migration; on the Free plan only
// SQLite-backed classes exist.
//
// What the inputs can show: infra sends a script only the migration steps after its live tag (the
// Workers API refuses a tag it already has). A script sent from scratch (no `oldTag`) carries the
// whole ledger, so every bound class must come out of it. A script with `oldTag` carries only the
// pending steps: the classes the earlier tags created are not in the inputs, so the rule checks
// that those steps delete or rename away no bound class. A script with no migrations is at its
// last tag; there is nothing to check (the from-scratch evaluation of `npm run plan` checks the
// ledger itself).
import * as cloudflare from "@pulumi/cloudflare";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import type { Rule } from "../lib/rule";
import { stackConfigProperty } from "../lib/stack";

interface MigrationStep {
  newClasses?: string[];
  newSqliteClasses?: string[];
  deletedClasses?: string[];
  renamedClasses?: { from?: string; to?: string }[];
  transferredClasses?: { from?: string; to?: string }[];
}

/** Classes that exist after applying every step in order. */
function classesAfter(steps: MigrationStep[]): { live: Set<string>; removed: Set<string>; keyValue: Set<string> } {
  const live = new Set<string>();
  const removed = new Set<string>();
  const keyValue = new Set<string>();
  for (const step of steps) {
    for (const c of step.newSqliteClasses ?? []) live.add(c);
    for (const c of step.newClasses ?? []) {
      live.add(c);
      keyValue.add(c);
    }
    for (const c of [...(step.newSqliteClasses ?? []), ...(step.newClasses ?? [])]) removed.delete(c);
    for (const { from, to } of [...(step.renamedClasses ?? []), ...(step.transferredClasses ?? [])]) {
      if (from) {
        live.delete(from);
        removed.add(from);
      }
      if (to) {
        live.add(to);
        removed.delete(to);
      }
    }
    for (const c of step.deletedClasses ?? []) {
      live.delete(c);
      removed.add(c);
    }
  }
  return { live, removed, keyValue };
}

export const workerDurableObjectMigrations: Rule<ResourceValidationPolicy> = {
  staging: "mandatory",
  stagingReason: "a Durable Object binding without its migration fails the deploy on any stack",
  policy: {
    name: "worker-durable-object-migrations",
    description:
      "Every durable_object_namespace binding of a WorkersScript (for a class in that script) must be created by a migration, with `newSqliteClasses` (the Free plan allows only SQLite-backed classes) and not deleted later.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { ...stackConfigProperty } },
    validateResource: validateResourceOfType(cloudflare.WorkersScript, (script, _args, report) => {
      const label = `Worker "${script.scriptName}"`;
      const m = script.migrations;
      if (!m) return;
      const incremental = !!m.oldTag;
      const { live, removed, keyValue } = classesAfter([m, ...(m.steps ?? [])]);
      for (const binding of script.bindings ?? []) {
        if (binding.type !== "durable_object_namespace") continue;
        // A binding to a class of another script is that script's migration to make.
        if (binding.scriptName && binding.scriptName !== script.scriptName) continue;
        const cls = binding.className;
        if (!cls) {
          report(`${label} binding "${binding.name}" is a Durable Object namespace without a className. Set \`className\` to the exported class.`);
        } else if (incremental && removed.has(cls)) {
          report(
            `${label} binds Durable Object class ${cls} ("${binding.name}") but the pending migration steps after tag ${m.oldTag} delete or rename it. Bind the class that replaces it, or drop the binding.`,
          );
        } else if (!incremental && !live.has(cls)) {
          report(`${label} binds Durable Object class ${cls} ("${binding.name}") but no migration creates it. Add it to \`migrations.newSqliteClasses\` with a new migration tag.`);
        } else if (keyValue.has(cls)) {
          report(
            `${label} creates Durable Object class ${cls} with \`newClasses\` (key-value storage), which the Free plan does not allow. Declare it in \`newSqliteClasses\` instead.`,
          );
        }
      }
    }),
  },
};
