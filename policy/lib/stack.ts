// Which stack a policy is judging, and how strict each stack is.
//
// @pulumi/policy does not hand policies the stack name (the engine sends it, the SDK keeps only the
// stack tags), but every URN carries it: urn:pulumi:<stack>::<project>::<type>::<name>. A policy's
// pack config may also name the stack explicitly (`stack`), which is what the offline runner does.

export type Level = "mandatory" | "advisory";
export type Tier = "staging" | "production";

/** `<stack>` out of `urn:pulumi:<stack>::...`, or undefined for anything that is not a URN. */
export function stackFromUrn(urn: string | undefined): string | undefined {
  const match = /^urn:pulumi:([^:]+)::/.exec(urn ?? "");
  return match?.[1];
}

/**
 * Only a stack named `staging` (or `<org>/staging`) gets the staging rules; every other stack name,
 * including an unknown one, is held to production rules so a typo fails closed.
 */
export function tierOf(stack: string | undefined): Tier {
  const short = (stack ?? "").split("/").pop();
  return short === "staging" ? "staging" : "production";
}

interface HasConfig {
  getConfig<T extends object>(): T;
}

/** The stack under evaluation: the pack config's `stack` if set, else the one in the URN. */
export function stackOf(args: HasConfig, urn: string | undefined): string | undefined {
  const configured = args.getConfig<{ stack?: unknown }>().stack;
  return typeof configured === "string" && configured !== "" ? configured : stackFromUrn(urn);
}

/** Config schema property every policy accepts, so a pack config file may pin the stack. */
export const stackConfigProperty = {
  stack: { type: "string" as const, description: "Stack name; defaults to the stack in the resource URN." },
};
