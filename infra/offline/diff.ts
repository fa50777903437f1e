// The change set between two offline evaluations of the program (npm run plan -- --against): what
// `pulumi preview` would report, resource by resource, if the first evaluation were the deployed
// state. Resources match by URN (aliases included); a changed input that the provider schema marks
// ForceNew (infra/offline/force-new.ts) makes a replace, anything else an update.
//
// What this cannot see: the live state's drift, and outputs the real providers compute (an ID that
// changes on replacement). The doubles derive those from inputs, so a replacement shows up in its
// dependents only where the program feeds a changed input on (image IDs, names).
import type { DetailedResource, Evaluation } from "./evaluate";
import { forceNewProperties } from "./force-new";

export type ChangeOp = "create" | "update" | "replace" | "delete";

export interface PropertyChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface ResourceChange {
  op: ChangeOp;
  urn: string;
  type: string;
  name: string;
  /** Changed leaves; a secret on either side shows as "[secret]". */
  properties: PropertyChange[];
  /** For a replace: the changed ForceNew inputs. */
  forceNew: string[];
}

const MISSING = Symbol("missing");

function* changedLeaves(before: unknown, after: unknown, path: string): Generator<PropertyChange> {
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  const bothArrays = Array.isArray(before) && Array.isArray(after);
  if ((isObj(before) && isObj(after)) || bothArrays) {
    const b = before as Record<string, unknown>;
    const a = after as Record<string, unknown>;
    const keys = bothArrays ? [...Array(Math.max((before as unknown[]).length, (after as unknown[]).length)).keys()].map(String) : [...new Set([...Object.keys(b), ...Object.keys(a)])];
    for (const k of keys) {
      const child = bothArrays ? `${path}[${k}]` : path ? `${path}.${k}` : k;
      yield* changedLeaves(k in b ? b[k] : MISSING, k in a ? a[k] : MISSING, child);
    }
    return;
  }
  yield { path, before, after };
}

function isSecret(path: string, r: DetailedResource | undefined): boolean {
  return !!r?.secretLeaves.some((s) => path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`) || s.startsWith(`${path}.`) || s.startsWith(`${path}[`));
}

function inputsOf(r: DetailedResource): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r.inputs).filter(([k]) => !k.startsWith("__")));
}

const show = (v: unknown) => (v === MISSING ? undefined : v);
const masked = (v: unknown) => (v === MISSING ? undefined : "[secret]");

export function diffEvaluations(base: Evaluation, head: Evaluation): ResourceChange[] {
  const baseByUrn = new Map(base.resources.map((r) => [r.urn, r]));
  const matched = new Set<string>();
  const changes: ResourceChange[] = [];
  for (const r of head.resources) {
    const old = [r.urn, ...(r.aliases ?? [])].map((u) => baseByUrn.get(u)).find((x) => x !== undefined);
    if (!old) {
      changes.push({ op: "create", urn: r.urn, type: r.type, name: r.name, properties: [], forceNew: [] });
      continue;
    }
    matched.add(old.urn);
    if (!r.custom) continue;
    const properties = [...changedLeaves(inputsOf(old), inputsOf(r), "")].map((c) =>
      isSecret(c.path, old) || isSecret(c.path, r) ? { path: c.path, before: masked(c.before), after: masked(c.after) } : { path: c.path, before: show(c.before), after: show(c.after) },
    );
    if (properties.length === 0) continue;
    const topLevel = [...new Set(properties.map((p) => p.path.split(/[.[]/)[0]!))];
    const forceNew = r.type.startsWith("pulumi:providers:") ? [] : forceNewProperties(r.type, topLevel);
    changes.push({ op: forceNew.length > 0 ? "replace" : "update", urn: r.urn, type: r.type, name: r.name, properties, forceNew });
  }
  for (const r of base.resources) {
    if (!matched.has(r.urn)) changes.push({ op: "delete", urn: r.urn, type: r.type, name: r.name, properties: [], forceNew: [] });
  }
  return changes;
}

const SYMBOL: Record<ChangeOp, string> = { create: "+", update: "~", replace: "+-", delete: "-" };
const MAX = 120;

function brief(v: unknown): string {
  if (v === undefined) return "(unset)";
  const s = typeof v === "string" && !v.includes("\n") ? v : JSON.stringify(v);
  return s.length > MAX ? `${s.slice(0, MAX)}… (${s.length} chars)` : s;
}

export function formatChanges(title: string, changes: ResourceChange[], unchanged: number): string {
  const lines = [`=== ${title} ===`, "evaluated offline under pulumi.runtime.setMocks on both sides; nothing was deployed or previewed against a cloud", ""];
  if (changes.length === 0) lines.push("No changes.");
  for (const c of changes) {
    const why = c.op === "replace" ? `  (ForceNew: ${c.forceNew.join(", ")})` : "";
    lines.push(`  ${SYMBOL[c.op].padEnd(2)} ${c.op.padEnd(7)} ${c.type}  ${c.name}${why}`);
    for (const p of c.properties) lines.push(`        ${p.path}: ${brief(p.before)} => ${brief(p.after)}`);
  }
  const count = (op: ChangeOp) => changes.filter((c) => c.op === op).length;
  lines.push("", `${count("create")} to create, ${count("update")} to update, ${count("replace")} to replace, ${count("delete")} to delete, ${unchanged} unchanged`);
  return lines.join("\n");
}
