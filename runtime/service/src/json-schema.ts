// The JSON Schema (OpenAPI 3.1 dialect) of a Joi schema, from Joi's own describe(): how the
// OpenAPI documents get their request schemas from the schemas that really validate requests.
// Covers the Joi the routes use; a check JSON Schema cannot say (a custom rule: an address that must
// decode to 32 bytes, an amount within bounds) is documented by `.meta({ openapi: {...} })`, merged in.
import type Joi from "joi";

export type JsonSchema = Record<string, unknown>;

interface Description {
  type: string;
  flags?: { presence?: string; description?: string; default?: unknown; only?: boolean; format?: string | string[]; unknown?: boolean };
  rules?: { name: string; args?: Record<string, unknown> }[];
  allow?: unknown[];
  invalid?: unknown[];
  examples?: unknown[];
  metas?: Record<string, unknown>[];
  keys?: Record<string, Description>;
  items?: Description[];
  matches?: { schema: Description }[];
  dependencies?: { rel: string; peers: string[] }[];
}

const STRING_FORMATS: Record<string, string> = { email: "email", guid: "uuid", uri: "uri", isoDate: "date-time" };

/** "/^a+$/u" -> "^a+$" (JSON Schema patterns are ECMA-262 regular expressions without delimiters). */
const patternOf = (regex: string) => regex.slice(1, regex.lastIndexOf("/"));

function typed(d: Description): JsonSchema {
  const s: JsonSchema = {};
  const limit = (rule: { args?: Record<string, unknown> }) => rule.args?.limit;
  switch (d.type) {
    case "string":
      s.type = "string";
      for (const rule of d.rules ?? []) {
        if (rule.name === "min") s.minLength = limit(rule);
        else if (rule.name === "max") s.maxLength = limit(rule);
        else if (rule.name === "length") s.minLength = s.maxLength = limit(rule);
        else if (rule.name === "pattern") s.pattern = patternOf(String(rule.args?.regex));
        else if (STRING_FORMATS[rule.name]) s.format = STRING_FORMATS[rule.name];
      }
      break;
    case "number":
      s.type = d.rules?.some((r) => r.name === "integer") ? "integer" : "number";
      for (const rule of d.rules ?? []) {
        if (rule.name === "min") s.minimum = limit(rule);
        else if (rule.name === "max") s.maximum = limit(rule);
      }
      break;
    case "boolean":
      s.type = "boolean";
      break;
    case "date":
      Object.assign(s, { type: "string", format: "date-time" });
      break;
    case "array":
      s.type = "array";
      if (d.items?.length) s.items = d.items.length === 1 ? toSchema(d.items[0]!) : { anyOf: d.items.map(toSchema) };
      for (const rule of d.rules ?? []) {
        if (rule.name === "min") s.minItems = limit(rule);
        else if (rule.name === "max") s.maxItems = limit(rule);
        else if (rule.name === "unique") s.uniqueItems = true;
      }
      break;
    case "object": {
      s.type = "object";
      const keys = Object.entries(d.keys ?? {});
      s.properties = Object.fromEntries(keys.map(([name, key]) => [name, toSchema(key)]));
      const required = keys.filter(([, key]) => key.flags?.presence === "required").map(([name]) => name);
      if (required.length) s.required = required;
      if (!d.flags?.unknown) s.additionalProperties = false;
      for (const rule of d.rules ?? []) {
        if (rule.name === "min") s.minProperties = limit(rule);
        else if (rule.name === "max") s.maxProperties = limit(rule);
      }
      const xor = d.dependencies?.filter((dep) => dep.rel === "xor") ?? [];
      if (xor.length === 1) s.oneOf = xor[0]!.peers.map((peer) => ({ required: [peer] }));
      else if (xor.length) s.allOf = xor.map((dep) => ({ oneOf: dep.peers.map((peer) => ({ required: [peer] })) }));
      break;
    }
    case "alternatives":
      s.anyOf = (d.matches ?? []).map((m) => toSchema(m.schema));
      break;
  }
  return s;
}

function toSchema(d: Description): JsonSchema {
  let s = typed(d);
  const allow = d.allow ?? [];
  if (d.flags?.only) s = { ...(s.type === "string" || s.type === "number" || s.type === "integer" ? { type: s.type } : {}), enum: allow };
  else {
    // "" is already a string without a minimum length or pattern; anything else allowed is an alternative.
    const extra = allow.filter((v) => !(v === "" && s.type === "string" && s.minLength === undefined && s.pattern === undefined));
    if (extra.length) s = { anyOf: [s, { enum: extra }] };
  }
  if (d.invalid?.length) s.not = { enum: d.invalid };
  if (d.flags?.description) s.description = d.flags.description;
  if (d.flags?.default !== undefined && typeof d.flags.default !== "function") s.default = d.flags.default;
  if (d.examples?.length) s.examples = d.examples;
  for (const meta of d.metas ?? []) if (meta.openapi) Object.assign(s, meta.openapi);
  return s;
}

/** The JSON Schema of a Joi schema; `required` says whether the value itself may be absent. */
export function jsonSchemaOf(schema: Joi.Schema): { schema: JsonSchema; required: boolean } {
  const d = schema.describe() as Description;
  return { schema: toSchema(d), required: d.flags?.presence === "required" };
}
