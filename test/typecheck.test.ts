import { expect } from "chai";
import { spawnSync } from "node:child_process";

// The type-check is part of the suite: the Node code (services, infra against the real Pulumi
// provider SDKs, policies, tests) and the Worker (against workers-types) each have a project.
describe("type-check", function () {
  this.timeout(240_000);
  for (const project of ["tsconfig.json", "runtime/edge/tsconfig.json"]) {
    it(`tsc -p ${project} reports no errors`, () => {
      const run = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", project, "--noEmit"], { encoding: "utf8" });
      expect(run.stdout + run.stderr, "tsc output").to.equal("");
      expect(run.status).to.equal(0);
    });
  }
});
