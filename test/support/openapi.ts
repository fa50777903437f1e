// Checks every OpenAPI document's test shares.
import yaml from "js-yaml";

/** The local `$ref: "#/..."` targets of an OpenAPI document's text, and those that do not resolve. */
export function localRefs(text: string): { refs: string[]; unresolved: string[] } {
  const doc = yaml.load(text) as Record<string, unknown>;
  const refs = [...text.matchAll(/\$ref: "#\/([^"]+)"/g)].map((m) => m[1]!);
  const unresolved = refs.filter((ref) => ref.split("/").reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc) === undefined);
  return { refs, unresolved };
}
