// `npm run plan -- [--stack staging|production]... [--program <file>] [--against <git-ref>]`
// Evaluates the Pulumi program offline (pulumi.runtime.setMocks, the stack's real config file,
// placeholder secrets) and prints what it would ask the engine for: every resource by type and
// name in dependency order, its inputs with secrets shown as [secret], and the stack outputs.
// With --against, it evaluates the program at that ref too (its own tree and bundles, built in a
// temporary directory) and prints the change set instead: create, update, replace (with the
// ForceNew inputs that force it) and delete per resource, with the properties that changed.
// Nothing is deployed or previewed against a cloud. Then the policy pack runs over the working
// tree's resources (policy/offline.ts): every violation is printed and a mandatory one fails.
// Progress (each stack's phases, with the time elapsed) goes to stderr; stdout is the plan alone.
import { createHash } from "node:crypto";
import { relative, resolve } from "node:path";
import { STACKS, currentCommit } from "../infra/config";
import { checkoutCommit, buildTree, resolveRef } from "../infra/offline/checkout";
import { diffEvaluations, formatChanges } from "../infra/offline/diff";
import { type DetailedResource, type Evaluation, type RecordedResource, DEFAULT_PROGRAM, REPO_ROOT, evaluateProgram } from "../infra/offline/evaluate";
import { evaluatePolicies } from "../policy/offline";
import { exitOnUsageError, parseCommand, usageError } from "./lib/cli";

const MAX_INLINE = 100;
const MAX_STRING = 2000;

export const USAGE = `usage: npm run plan -- [--stack ${STACKS.join("|")}]... [--program <file>] [--against <git-ref>]
  --stack <name>     stack to evaluate (repeatable; default: every stack)
  --program <file>   program entry (default: infra/index.ts)
  --against <ref>    print the change set from the program at <ref> to the working tree`;

const SPEC = {
  usage: USAGE,
  options: { stack: { type: "string", multiple: true }, program: { type: "string" }, against: { type: "string" } },
} as const;

export interface PlanArgs {
  stacks: string[];
  program: string;
  against?: string;
}

/** Throws CliUsageError (exit 0 for --help, 2 naming the mistake). */
export function parseArgs(argv: string[]): PlanArgs {
  const { values } = parseCommand(SPEC, argv);
  const program = values.program ? resolve(values.program) : DEFAULT_PROGRAM;
  const stacks = values.stack ?? [];
  for (const s of stacks) {
    if (program === DEFAULT_PROGRAM && !(STACKS as readonly string[]).includes(s)) usageError(`unknown stack "${s}" for --stack (expected ${STACKS.join(" or ")})`, USAGE);
  }
  if (values.against !== undefined && program !== DEFAULT_PROGRAM) usageError("--against compares infra/index.ts at two commits; it does not take --program", USAGE);
  return { stacks: stacks.length > 0 ? stacks : [...STACKS], program, ...(values.against !== undefined ? { against: values.against } : {}) };
}

/** Dependency order: a resource after its parent and everything it depends on; ties keep registration order. */
export function dependencyOrder<T extends RecordedResource>(resources: T[]): T[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const done = new Set<string>();
  const out: T[] = [];
  const visit = (r: T, path: Set<string>) => {
    if (done.has(r.urn) || path.has(r.urn)) return;
    path.add(r.urn);
    for (const dep of [r.parent, ...r.dependencies]) {
      const d = dep ? byUrn.get(dep) : undefined;
      if (d) visit(d, path);
    }
    path.delete(r.urn);
    done.add(r.urn);
    out.push(r);
  };
  for (const r of resources) visit(r, new Set());
  return out;
}

function masked(value: unknown, path: string, secrets: Set<string>): unknown {
  if (secrets.has(path)) return "[secret]";
  if (Array.isArray(value)) return value.map((v, i) => masked(v, `${path}[${i}]`, secrets));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, path ? `${path}.${k}` : k, secrets)]));
  }
  if (typeof value === "string" && value.length > MAX_STRING) {
    return `<${Buffer.byteLength(value)} bytes, sha256 ${createHash("sha256").update(value).digest("hex").slice(0, 16)}…>`;
  }
  return value;
}

function inline(value: unknown): string {
  if (typeof value === "string") return /^[\w./:@<>[\]…,=+ -]*$/.test(value) && value !== "" ? value : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(inline).join(", ")}]`;
  if (value && typeof value === "object")
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}: ${inline(v)}`)
      .join(", ")}}`;
  return String(value);
}

/** Lines relative to column 0; an empty or "|" first line means a block follows on the next lines. */
function render(value: unknown): string[] {
  if (typeof value === "string" && value.includes("\n")) return ["|", ...value.replace(/\n$/, "").split("\n")];
  const one = inline(value);
  if (one.length <= MAX_INLINE || value === null || typeof value !== "object") return [one];
  if (Array.isArray(value)) return ["", ...value.flatMap((v) => prefixed(render(v), "- ", "  "))];
  return ["", ...Object.entries(value).flatMap(([k, v]) => prefixed(render(v), `${k}: `, "  "))];
}

function prefixed(lines: string[], first: string, cont: string): string[] {
  const [head, ...rest] = lines;
  return [`${first}${head ?? ""}`.trimEnd(), ...rest.map((l) => `${cont}${l}`)];
}

/** Provider inputs travel as JSON strings; show them as the values they are. */
function providerInput(type: string, value: unknown): unknown {
  if (!type.startsWith("pulumi:providers:") || typeof value !== "string" || !/^[[{]/.test(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

const short = (urn: string) => urn.split("::").pop() ?? urn;

export function formatPlan(stack: string, program: string, resources: DetailedResource[], outputs: Record<string, unknown>, placeholderKeys: string[]): string {
  const lines: string[] = [];
  lines.push(`=== Plan for stack "${stack}" ===`);
  lines.push(`program ${relative(REPO_ROOT, program)}; config Pulumi.${stack}.yaml + placeholder values for ${placeholderKeys.length} secret keys`);
  lines.push("evaluated offline under pulumi.runtime.setMocks: cloud providers answered by test doubles, nothing was deployed or previewed");
  const ordered = dependencyOrder(resources);
  const index = new Map(ordered.map((r, i) => [r.urn, i + 1]));
  lines.push("", `Resources (${ordered.length}), in dependency order:`);
  for (const r of ordered) {
    const n = index.get(r.urn)!;
    lines.push("", `${String(n).padStart(3)}. ${r.type}  ${r.name}${r.custom ? "" : "  (component)"}`);
    const rel: string[] = [];
    if (r.parent && index.has(r.parent)) rel.push(`parent: ${short(r.parent)}`);
    if (r.provider) rel.push(`provider: ${short(r.provider.split("::").slice(0, -1).join("::"))}`);
    const deps = r.dependencies.filter((d) => index.has(d)).map((d) => `#${index.get(d)} ${short(d)}`);
    if (deps.length > 0) rel.push(`after: ${deps.join(", ")}`);
    if (rel.length > 0) lines.push(`       ${rel.join("; ")}`);
    const secrets = new Set(r.secretLeaves);
    for (const [key, value] of Object.entries(r.inputs)) {
      if (key.startsWith("__")) continue;
      lines.push(...prefixed(render(masked(providerInput(r.type, value), key, secrets)), `       ${key}: `, "         "));
    }
  }
  lines.push("", "Outputs:");
  for (const [key, value] of Object.entries(outputs)) lines.push(...prefixed(render(value), `  ${key}: `, "    "));
  return lines.join("\n");
}

/** Both sides of a change set: the tree at `baseDir` (commit `baseCommit`) and the tree at `headDir`. */
export async function planChanges(opts: {
  stack: string;
  baseDir: string;
  baseCommit: string;
  headDir?: string;
  headCommit?: string;
  /** Told each phase as it starts (the CLI prints it on stderr). */
  progress?: (phase: string) => void;
}): Promise<{ changes: ReturnType<typeof diffEvaluations>; base: Evaluation; head: Evaluation }> {
  const progress = opts.progress ?? (() => {});
  progress(`evaluating the program at ${opts.baseCommit.slice(0, 12)}`);
  const base = await evaluateProgram({ stack: opts.stack, root: opts.baseDir, config: { "twist:commit": opts.baseCommit } });
  progress(`evaluating the program in ${opts.headDir ?? "the working tree"}`);
  const head = await evaluateProgram({
    stack: opts.stack,
    ...(opts.headDir ? { root: opts.headDir } : {}),
    ...(opts.headCommit ? { config: { "twist:commit": opts.headCommit } } : {}),
  });
  progress("diffing the two evaluations");
  return { changes: diffEvaluations(base, head), base, head };
}

/** A progress line on stderr, so stdout stays the plan alone; the elapsed time shows where a long run is. */
function progressLine(started: number, stack: string) {
  return (phase: string) => console.error(`plan [${((Date.now() - started) / 1000).toFixed(1)} s] ${stack}: ${phase}`);
}

async function policyReport(resources: DetailedResource[], stack: string): Promise<boolean> {
  const violations = await evaluatePolicies(resources, { stack });
  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
  console.log(`\nPolicies: ${violations.length} violation(s), ${mandatory.length} mandatory`);
  for (const v of violations) {
    console.log(`  [${v.enforcementLevel}] ${v.policy}: ${v.type} "${v.name}" (${v.urn})\n      ${v.message.split("\n").join("\n      ")}`);
  }
  console.log("");
  return mandatory.length > 0;
}

export async function main(argv: string[]): Promise<number> {
  const { stacks, program, against } = parseArgs(argv);
  let failed = false;
  let base: { sha: string; dir: string } | undefined;
  if (against !== undefined) {
    const sha = resolveRef(REPO_ROOT, against);
    console.error(`plan: building ${against} (${sha.slice(0, 12)}) in a temporary tree, and the working tree`);
    base = { sha, dir: checkoutCommit(REPO_ROOT, sha) };
    buildTree(REPO_ROOT);
  }
  const started = Date.now();
  for (const stack of stacks) {
    const progress = progressLine(started, stack);
    let resources: DetailedResource[];
    try {
      if (base) {
        const { changes, head } = await planChanges({ stack, baseDir: base.dir, baseCommit: base.sha, progress });
        const custom = new Set(head.resources.filter((r) => r.custom).map((r) => r.urn));
        const unchanged = custom.size - changes.filter((c) => c.op !== "delete" && custom.has(c.urn)).length;
        console.log(formatChanges(`Changes for stack "${stack}": ${against} (${base.sha.slice(0, 12)}) -> working tree (${currentCommit()})`, changes, unchanged));
        resources = head.resources;
      } else {
        progress(`evaluating ${relative(REPO_ROOT, program)} offline`);
        const evaluation = await evaluateProgram({ stack, program });
        console.log(formatPlan(stack, program, evaluation.resources, evaluation.outputs, evaluation.placeholderKeys));
        resources = evaluation.resources;
      }
    } catch (err) {
      console.error(`plan for stack "${stack}" failed: ${(err as Error).message}`);
      failed = true;
      continue;
    }
    progress(`running the policy pack over ${resources.length} resources`);
    if (await policyReport(resources, stack)) failed = true;
  }
  progressLine(started, stacks.join(", "))(failed ? "done, failed" : "done");
  return failed ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      try {
        exitOnUsageError(err);
      } catch {
        console.error(`plan: ${(err as Error).message}`);
        process.exit(2);
      }
    },
  );
}
