// docs/api/influencer.yaml documents exactly the routes the app really mounts (both parts), and every
// $ref in it resolves.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import yaml from "js-yaml";
import { metricsAppOf, mountedRoutes } from "@twist/service";
import { localRefs } from "../../../test/support/openapi";
import { startHarness, type Harness } from "./harness";

const SPEC_PATH = join(__dirname, "..", "..", "..", "docs", "api", "influencer.yaml");
const METHODS = ["get", "post", "put", "patch", "delete"];

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
    const routesOf = (app: typeof h.app, where = "") => mountedRoutes(app).map((r) => `${where}${r.method} ${r.path}`);
    const mounted = new Set([...routesOf(h.app), ...routesOf(metricsAppOf(h.app), "private ")]);
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(spec.paths)) {
      const where = "servers" in item ? "private " : "";
      for (const method of Object.keys(item)) if (METHODS.includes(method)) documented.add(`${where}${method.toUpperCase()} ${path}`);
    }
    expect(mounted.size).to.be.greaterThan(10);
    expect(
      [...mounted].filter((r) => !documented.has(r)),
      "mounted but undocumented",
    ).to.deep.equal([]);
    expect(
      [...documented].filter((r) => !mounted.has(r)),
      "documented but not mounted",
    ).to.deep.equal([]);
  });

  it("every $ref resolves", () => {
    const text = readFileSync(SPEC_PATH, "utf8");
    const { refs, unresolved } = localRefs(text);
    expect(refs.length).to.be.greaterThan(10);
    expect(unresolved).to.deep.equal([]);
  });
});
