// The request half of a service's OpenAPI document comes from the routes themselves: every route
// that validates its input with validateRequest gets its path and query parameters and its JSON
// body from those very Joi schemas. docs/api/*.yaml hold the rest (responses, headers, what no Joi
// schema checks) and must not restate a generated part: withRequestSchemas throws if one does, or
// if a validating route is not documented at all. So the document served and the validation cannot drift.
import type { Express } from "express";
import type Joi from "joi";
import { type JsonSchema, jsonSchemaOf } from "./json-schema";
import { frontRoutesOf } from "./front-routes";
import type { RequestSchemas } from "./validate";

interface Layer {
  route?: { path: string; methods: Record<string, boolean>; stack: { handle: unknown }[] };
  handle?: { stack?: Layer[] };
}

export interface MountedRoute {
  method: string;
  /** OpenAPI path template: /links/{code} for Express's /links/:code. */
  path: string;
  /** The schemas of its validateRequest, when it has one. */
  schemas?: RequestSchemas;
}

/** /links/{code} for Express's /links/:code. */
const openApiPath = (expressPath: string) => expressPath.replace(/:(\w+)/g, "{$1}");

function walk(stack: Layer[]): MountedRoute[] {
  return stack.flatMap((layer) => {
    if (!layer.route) return layer.handle?.stack ? walk(layer.handle.stack) : [];
    const path = openApiPath(layer.route.path);
    const schemas = layer.route.stack.map((l) => (l.handle as { requestSchemas?: RequestSchemas }).requestSchemas).find(Boolean);
    return Object.entries(layer.route.methods)
      .filter(([method, on]) => on && method !== "_all")
      .map(([method]) => ({ method: method.toUpperCase(), path, schemas }));
  });
}

/** Every route an Express 5 app mounts (its routers mounted at /) and serves ahead (front routes), with its request schemas. */
export function mountedRoutes(app: Express): MountedRoute[] {
  const front = frontRoutesOf(app).map((route) => ({ method: "GET", path: openApiPath(route.path) }));
  return [...front, ...walk((app as unknown as { router: { stack: Layer[] } }).router.stack)];
}

interface Parameter {
  $ref?: string;
  name?: string;
  in?: string;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: unknown;
}
export type OpenApiDocument = Record<string, unknown> & { paths?: Record<string, Record<string, unknown> & { parameters?: Parameter[] }> };

function parametersOf(schema: Joi.ObjectSchema, where: "path" | "query"): JsonSchema[] {
  const { properties = {}, required = [] } = jsonSchemaOf(schema).schema as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(properties).map(([name, { description, ...s }]) => ({
    name,
    in: where,
    required: where === "path" || required.includes(name),
    ...(description ? { description } : {}),
    schema: s,
  }));
}

/** A copy of `spec` with the request schemas of the app's validating routes filled in. */
export function withRequestSchemas<T extends OpenApiDocument>(spec: T, app: Express): T {
  const doc = structuredClone(spec);
  const resolve = (p: Parameter): Parameter =>
    p.$ref
      ? resolve(
          p.$ref
            .slice(2)
            .split("/")
            .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc) as Parameter,
        )
      : p;
  for (const route of mountedRoutes(app)) {
    if (!route.schemas) continue;
    const where = `${route.method} ${route.path}`;
    const item = doc.paths?.[route.path];
    const op = item?.[route.method.toLowerCase()] as Operation | undefined;
    if (!op) throw new Error(`OpenAPI document: ${where} validates its input but is not documented`);
    const { params, query, body } = route.schemas;
    const generated = [...(params ? parametersOf(params, "path") : []), ...(query ? parametersOf(query, "query") : [])];
    const declared = [...(item!.parameters ?? []), ...(op.parameters ?? [])].map(resolve);
    for (const p of generated) {
      if (declared.some((d) => d.name === p.name && d.in === p.in)) throw new Error(`OpenAPI document: ${where} restates ${p.in} parameter ${p.name}, which its Joi schema defines`);
    }
    if (generated.length) op.parameters = [...(op.parameters ?? []), ...(generated as Parameter[])];
    if (body) {
      if (op.requestBody) throw new Error(`OpenAPI document: ${where} restates its request body, which its Joi schema defines`);
      const { schema, required } = jsonSchemaOf(body);
      op.requestBody = { required, content: { "application/json": { schema } } };
    }
  }
  return doc;
}
