// `npm run plan -- [--stack staging|production]... [--program <file>]`
// Evaluates the Pulumi program offline (pulumi.runtime.setMocks, the stack's real config file,
// placeholder secrets) and prints what it would ask the engine for: every resource by type and
// name in dependency order, its inputs with secrets shown as [secret], and the stack outputs.
// Nothing is deployed or previewed against a cloud. Then the policy pack runs over the same
// resources (policy/offline.ts): every violation is printed and a mandatory one fails the command.
import { createHash } from "node:crypto";
import { relative, resolve } from "node:path";
import { STACKS } from "../infra/config";
import { type DetailedResource, type RecordedResource, DEFAULT_PROGRAM, REPO_ROOT, evaluateProgram } from "../infra/offline/evaluate";
import { evaluatePolicies } from "../policy/offline";


const MAX_INLINE = 100;
const MAX_STRING = 2000;

export function parseArgs(argv: string[]): { stacks: string[]; program: string } {
  const stacks: string[] = [];
  let program = DEFAULT_PROGRAM;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === "--stack") stacks.push(value());
    else if (flag === "--program") program = resolve(value());
    else throw new Error(`unknown argument ${arg} (usage: npm run plan -- [--stack ${STACKS.join("|")}] [--program <file>])`);
  }
  const isDefault = program === DEFAULT_PROGRAM;
  for (const s of stacks) {
    if (isDefault && !(STACKS as readonly string[]).includes(s)) throw new Error(`unknown stack "${s}" (expected ${STACKS.join(" or ")})`);
  }
  return { stacks: stacks.length > 0 ? stacks : [...STACKS], program };
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
  if (typeof value === "string") return /^[\w./:@<>\[\]…,=+ -]*$/.test(value) && value !== "" ? value : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(inline).join(", ")}]`;
  if (value && typeof value === "object") return `{${Object.entries(value).map(([k, v]) => `${k}: ${inline(v)}`).join(", ")}}`;
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

export async function main(argv: string[]): Promise<number> {
  const { stacks, program } = parseArgs(argv);
  let failed = false;
  for (const stack of stacks) {
    let evaluation;
    try {
      evaluation = await evaluateProgram({ stack, program });
    } catch (err) {
      console.error(`plan for stack "${stack}" failed: ${(err as Error).message}`);
      failed = true;
      continue;
    }
    console.log(formatPlan(stack, program, evaluation.resources, evaluation.outputs, evaluation.placeholderKeys));
    const violations = await evaluatePolicies(evaluation.resources, { stack });
    const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
    console.log(`\nPolicies: ${violations.length} violation(s), ${mandatory.length} mandatory`);
    for (const v of violations) {
      console.log(`  [${v.enforcementLevel}] ${v.policy}: ${v.type} "${v.name}" (${v.urn})\n      ${v.message.split("\n").join("\n      ")}`);
    }
    console.log("");
    if (mandatory.length > 0) failed = true;
  }
  return failed ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`plan: ${(err as Error).message}`);
      process.exit(2);
    },
  );
}
