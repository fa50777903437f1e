// Runs the pack without the Pulumi engine, over the resources an offline evaluation of a program
// recorded (infra/offline/evaluate.ts). It calls the same policy objects the pack registers, with
// arguments shaped like the ones @pulumi/policy's analyzer builds, and collects every violation of
// every resource and stack policy (it never stops at the first).
import type { PolicyResource, PolicyResourceOptions, ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { Resource } from "@pulumi/pulumi";
import type { RecordedResource } from "../infra/offline/evaluate";
import { enforcementFor } from "./lib/rule";
import type { Level } from "./lib/stack";
import { rules } from "./rules";

export type { RecordedResource };

export interface Violation {
  policy: string;
  enforcementLevel: Level;
  urn: string;
  type: string;
  name: string;
  message: string;
}

/** Per-policy configuration, as in a pack config file: { "<policy>": { ...properties } }. */
export type PolicyConfig = Record<string, Record<string, unknown>>;

export interface EvaluateOptions {
  stack: string;
  config?: PolicyConfig;
}

export interface ReportedViolation {
  message: string;
  urn?: string;
}

class NotApplicable extends Error {}

/** The resource type token a class or a typed validation carries (as @pulumi/policy reads it). */
function getPulumiType(obj: unknown): string | undefined {
  const type = (obj as { __pulumiType?: unknown } | undefined)?.__pulumiType;
  return typeof type === "string" && type !== "" ? type : undefined;
}

function isStackPolicy(policy: ResourceValidationPolicy | StackValidationPolicy): policy is StackValidationPolicy {
  return typeof (policy as StackValidationPolicy).validateStack === "function";
}

type ResourceClass = { new (...rest: never[]): Resource };

function isTypeOf(type: string, resourceClass: ResourceClass): boolean {
  const pulumiType = getPulumiType(resourceClass);
  if (pulumiType) return type === pulumiType;
  const isInstance = (resourceClass as unknown as { isInstance?: (o: unknown) => boolean }).isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

/** The policy's `getConfig`: the pack config the evaluation was given for it, plus the stack name. */
function configFor(policyName: string, opts: EvaluateOptions): <T extends object>() => T {
  return <T extends object>() => ({ ...(opts.config?.[policyName] ?? {}), stack: opts.stack }) as T;
}

/** The engine's defaults for resource options (the recorded program does not carry them). */
const resourceOptions = (): PolicyResourceOptions => ({
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
});

const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};

/** Runs one resource policy over one resource; returns what it reported. */
export async function runResourcePolicy(
  policy: ResourceValidationPolicy,
  resource: Pick<RecordedResource, "type" | "name" | "urn" | "inputs" | "parent">,
  opts: EvaluateOptions,
): Promise<ReportedViolation[]> {
  const reported: ReportedViolation[] = [];
  const validations: ResourceValidation[] = policy.validateResource === undefined ? [] : ([] as ResourceValidation[]).concat(policy.validateResource);
  for (const validation of validations) {
    const declaredType = getPulumiType(validation);
    if (declaredType && declaredType !== resource.type) continue;
    const args: ResourceValidationArgs = {
      type: resource.type,
      props: structuredClone(resource.inputs),
      urn: resource.urn,
      name: resource.name,
      opts: { ...resourceOptions(), ...(resource.parent ? { parent: resource.parent } : {}) },
      stackTags: new Map(),
      isType: (cls) => isTypeOf(resource.type, cls),
      asType: ((cls: ResourceClass) => (isTypeOf(resource.type, cls) ? args.props : undefined)) as ResourceValidationArgs["asType"],
      getConfig: configFor(policy.name, opts),
      notApplicable,
    };
    try {
      await validation(args, (message, urn) => reported.push({ message, urn: urn ?? resource.urn }));
    } catch (err) {
      if (!(err instanceof NotApplicable)) throw new Error(`policy ${policy.name} failed on ${resource.urn}: ${(err as Error).message}`, { cause: err });
    }
  }
  return reported;
}

/** The stack's resources as stack policies see them (props are the recorded inputs). */
export function toPolicyResources(resources: readonly RecordedResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  for (const r of resources) {
    byUrn.set(r.urn, {
      type: r.type,
      props: structuredClone(r.inputs),
      urn: r.urn,
      name: r.name,
      opts: resourceOptions(),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => isTypeOf(r.type, cls),
      asType: ((cls: ResourceClass) => (isTypeOf(r.type, cls) ? byUrn.get(r.urn)?.props : undefined)) as PolicyResource["asType"],
    });
  }
  for (const r of resources) {
    const resource = byUrn.get(r.urn)!;
    resource.dependencies = r.dependencies.map((urn) => byUrn.get(urn)).filter((d): d is PolicyResource => d !== undefined);
    const parent = r.parent === undefined ? undefined : byUrn.get(r.parent);
    if (parent) resource.parent = parent;
    // A provider reference is "<urn>::<id>"; stack policies see the provider resource itself.
    const provider = r.provider === undefined ? undefined : byUrn.get(r.provider.slice(0, r.provider.lastIndexOf("::")));
    if (provider) resource.provider = { type: provider.type, name: provider.name, urn: provider.urn, props: provider.props };
  }
  return [...byUrn.values()];
}

/** Runs one stack policy over a whole stack; returns what it reported. */
export async function runStackPolicy(policy: StackValidationPolicy, resources: readonly RecordedResource[], opts: EvaluateOptions): Promise<ReportedViolation[]> {
  const reported: ReportedViolation[] = [];
  try {
    await policy.validateStack({ resources: toPolicyResources(resources), stackTags: new Map(), getConfig: configFor(policy.name, opts), notApplicable }, (message, urn) =>
      reported.push(urn === undefined ? { message } : { message, urn }),
    );
  } catch (err) {
    if (!(err instanceof NotApplicable)) throw new Error(`policy ${policy.name} failed on stack ${opts.stack}: ${(err as Error).message}`, { cause: err });
  }
  return reported;
}

/** Every violation of every rule in the pack, for one stack's recorded resources. */
export async function evaluatePolicies(resources: RecordedResource[], opts: EvaluateOptions): Promise<Violation[]> {
  const violations: Violation[] = [];
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const add = (policy: string, level: Level, found: ReportedViolation[]) => {
    for (const { message, urn } of found) {
      const resource = urn === undefined ? undefined : byUrn.get(urn);
      violations.push({ policy, enforcementLevel: level, urn: urn ?? "", type: resource?.type ?? "pulumi:pulumi:Stack", name: resource?.name ?? opts.stack, message });
    }
  };
  for (const rule of rules) {
    const level = enforcementFor(rule, opts.stack);
    const { policy } = rule;
    if (isStackPolicy(policy)) {
      add(policy.name, level, await runStackPolicy(policy, resources, opts));
    } else {
      for (const resource of resources) add(policy.name, level, await runResourcePolicy(policy, resource, opts));
    }
  }
  return violations;
}

/** One line per violation: level, policy, resource and the message (which says how to fix it). */
export function formatViolation(v: Violation): string {
  const where = v.urn === "" ? `stack ${v.name}` : `${v.type} "${v.name}"`;
  return `[${v.enforcementLevel}] ${v.policy}: ${where}\n    ${v.message}`;
}
