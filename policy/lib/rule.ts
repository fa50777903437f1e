// A rule is one CrossGuard policy plus how strict it is on staging. Production is always mandatory.
import type { EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { type Level, tierOf } from "./stack";

export interface Rule<P extends ResourceValidationPolicy | StackValidationPolicy = ResourceValidationPolicy | StackValidationPolicy> {
  /** The policy object the pack registers, with `enforcementLevel: "mandatory"` (fail closed). */
  policy: P & { enforcementLevel: "mandatory" };
  /** Enforcement on the staging stack (applied through policy/config/staging.json). */
  staging: Level;
  /** One line for the docs table: why staging has that level. */
  stagingReason: string;
}

export function enforcementFor(rule: Rule, stack: string | undefined): Level {
  return tierOf(stack) === "staging" ? rule.staging : "mandatory";
}

/** Reads a policy's config with its defaults filled in (the engine may or may not apply them). */
export function configWithDefaults<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
  const given = args.getConfig<Partial<T>>();
  const merged = { ...defaults } as T;
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

export type { EnforcementLevel };
