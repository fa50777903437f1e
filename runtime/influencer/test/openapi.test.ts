// docs/api/influencer.yaml documents exactly the routes the app really mounts (both parts), and every
// $ref in it resolves.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import yaml from "js-yaml";
import { metricsAppOf } from "@twist/service";
import { localRefs } from "../../../test/support/openapi";
import { startHarness, type Harness } from "./harness";

const SPEC_PATH = join(__dirname, "..", "..", "..", "docs", "api", "influencer.yaml");
const METHODS = ["get", "post", "put", "patch", "delete"];

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** "METHOD /path/{param}" for every route in the Express 5 router tree (routers mount at /). */
export function mountedRoutes(stack: Layer[]): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== "_all") out.push(`${method.toUpperCase()} ${layer.route.path.replace(/:(\w+)/g, "{$1}")}`);
      }
    } else if (layer.handle?.stack) {
      out.push(...mountedRoutes(layer.handle.stack));
    }
  }
  return out;
}

describe("influencer: OpenAPI document vs mounted routes", () => {
  let h: Harness;
  const spec = yaml.load(readFileSync(SPEC_PATH, "utf8")) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  before(async () => {
    h = await startHarness("p1openapi");
  });
  after(async () => {
    await h.close();
  });

  it("is OpenAPI 3.1", () => {
    expect(spec.openapi).to.match(/^3\.1\./);
  });

  it("documents every mounted route and nothing that is not mounted (paths with their own servers: the private metrics app)", () => {
    const stackOf = (app: unknown) => (app as { router: { stack: Layer[] } }).router.stack;
    const mounted = new Set([...mountedRoutes(stackOf(h.app)), ...mountedRoutes(stackOf(metricsAppOf(h.app))).map((r) => `private ${r}`)]);
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(spec.paths)) {
      const where = "servers" in item ? "private " : "";
      for (const method of Object.keys(item)) if (METHODS.includes(method)) documented.add(`${where}${method.toUpperCase()} ${path}`);
    }
    expect(mounted.size).to.be.greaterThan(10);
    expect([...mounted].filter((r) => !documented.has(r)), "mounted but undocumented").to.deep.equal([]);
    expect([...documented].filter((r) => !mounted.has(r)), "documented but not mounted").to.deep.equal([]);
  });

  it("every $ref resolves", () => {
    const text = readFileSync(SPEC_PATH, "utf8");
    const { refs, unresolved } = localRefs(text);
    expect(refs.length).to.be.greaterThan(10);
    expect(unresolved).to.deep.equal([]);
  });
});
