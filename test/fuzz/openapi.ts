// The routes of an Express service as its OpenAPI document describes them: what the fuzz tests probe.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";

const ROOT = join(__dirname, "..", "..");

export type Schema = Record<string, any>;

export interface Route {
  method: string;
  template: string;
  bearer: boolean;
  signed: boolean;
  idempotent: boolean;
  pathParams: string[];
  queryParams: Schema[];
  bodySchema?: Schema;
  bodyRequired: boolean;
}

export interface Documented {
  routes: Route[];
  resolve: (s: Schema | undefined) => Schema | undefined;
}

/** The committed document; the services fill in its request schemas from their routes (withRequestSchemas). */
export const committed = (file: string) => yaml.load(readFileSync(join(ROOT, file), "utf8")) as Schema;

export function openApiRoutes(doc: Schema): Documented {
  const resolve = (s: Schema | undefined): Schema | undefined => {
    if (!s || typeof s.$ref !== "string") return s;
    const target = (s.$ref as string)
      .replace(/^#\//, "")
      .split("/")
      .reduce((node: Schema, key: string) => node?.[key], doc);
    return resolve(target);
  };
  const routes: Route[] = [];
  for (const [template, item] of Object.entries(doc.paths as Record<string, Schema>)) {
    const shared = (item.parameters ?? []) as Schema[];
    for (const [method, op] of Object.entries(item)) {
      if (method === "parameters" || method === "servers") continue; // path-level fields, not operations
      const params = [...shared, ...((op.parameters ?? []) as Schema[])].map((p) => resolve(p)!);
      const security = (op.security ?? doc.security ?? []) as Schema[];
      const headers = params.filter((p) => p.in === "header").map((p) => String(p.name).toLowerCase());
      const body = op.requestBody?.content?.["application/json"]?.schema as Schema | undefined;
      routes.push({
        method: method.toUpperCase(),
        template,
        bearer: security.some((s) => "bearer" in s),
        signed: headers.includes("x-signature"),
        idempotent: headers.includes("idempotency-key"),
        pathParams: params.filter((p) => p.in === "path").map((p) => p.name as string),
        queryParams: params.filter((p) => p.in === "query"),
        bodySchema: body,
        bodyRequired: Boolean(op.requestBody?.required),
      });
    }
  }
  return { routes, resolve };
}

export function methodsByTemplate(routes: Route[]): (template: string) => string[] {
  return (template) => routes.filter((r) => r.template === template).map((r) => r.method);
}
