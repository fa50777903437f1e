// docs/api/edge.yaml documents exactly the routes of the Worker's route table (runtime/edge/src/
// routes.ts), with the same operationIds and body limits, and every $ref in it resolves. The Worker
// dispatches on that table, so the document cannot describe a route the Worker does not answer.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import yaml from "js-yaml";
import { localRefs } from "../../../test/support/openapi";
import { ROUTES } from "../src/routes";

const SPEC_PATH = join(__dirname, "..", "..", "..", "docs", "api", "edge.yaml");
const METHODS = ["get", "post", "put", "patch", "delete"];

interface Operation {
  operationId?: string;
  security?: unknown[];
  "x-body-limit-bytes"?: number;
}

describe("edge: OpenAPI document vs the Worker's route table", () => {
  const text = readFileSync(SPEC_PATH, "utf8");
  const spec = yaml.load(text) as { openapi: string; paths: Record<string, Record<string, Operation>> };
  const documented = Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
  );

  it("is OpenAPI 3.1", () => {
    expect(spec.openapi).to.match(/^3\.1\./);
  });

  it("documents every route of the table and nothing else, under the table's operationIds", () => {
    const table = ROUTES.map((r) => `${r.method} ${r.path} ${r.operation}`).sort();
    expect(documented.map(({ key, op }) => `${key} ${op.operationId}`).sort()).to.deep.equal(table);
  });

  it("states each ingest route's body limit and bearer security as the table does, and none elsewhere", () => {
    for (const route of ROUTES) {
      const op = documented.find((d) => d.key === `${route.method} ${route.path}`)!.op;
      expect(op["x-body-limit-bytes"], route.path).to.equal(route.bodyLimitBytes);
      expect(op.security !== undefined, route.path).to.equal(route.bodyLimitBytes !== undefined);
    }
  });

  it("every $ref resolves", () => {
    const { refs, unresolved } = localRefs(text);
    expect(refs.length).to.be.greaterThan(10);
    expect(unresolved).to.deep.equal([]);
  });
});
