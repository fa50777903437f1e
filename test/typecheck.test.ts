import { expect } from "chai";
import { runCpuBound } from "./support/cpu-bound";

// The type-check is part of the suite: the Node code (services, infra against the real Pulumi
// provider SDKs, policies, tests) and the Worker (against workers-types) each have a project.
// tsc takes about 15 CPU seconds a project here; a loaded run took 4m24s of wall time for both.
const CPU_SECONDS = 300;

describe("type-check", function () {
  this.timeout(0);
  for (const project of ["tsconfig.json", "runtime/edge/tsconfig.json"]) {
    it(`tsc -p ${project} reports no errors (within ${CPU_SECONDS} CPU seconds)`, async () => {
      const run = await runCpuBound(process.execPath, ["node_modules/typescript/bin/tsc", "-p", project, "--noEmit"], { cpuSeconds: CPU_SECONDS });
      expect(run.signal, `tsc killed (past ${CPU_SECONDS} CPU seconds, or out of memory)`).to.equal(null);
      expect(run.stdout + run.stderr, "tsc output").to.equal("");
      expect(run.status).to.equal(0);
    });
  }
});
