import { expect } from "chai";
import { execFile } from "node:child_process";

// The type-check is part of the suite: the Node code (services, infra against the real Pulumi
// provider SDKs, policies, tests) and the Worker (against workers-types) each have a project.
// tsc is CPU-bound: on a loaded machine its wall time has no useful bound, its CPU time does
// (about 15 s per project here). So the bound is on the CPU seconds it may use (RLIMIT_CPU), not
// on the clock, and tsc runs beside the event loop rather than blocking it.
const CPU_SECONDS = 300;

describe("type-check", function () {
  this.timeout(0);
  for (const project of ["tsconfig.json", "runtime/edge/tsconfig.json"]) {
    it(`tsc -p ${project} reports no errors (within ${CPU_SECONDS} CPU seconds)`, async () => {
      const run = await new Promise<{ code: number | null; signal: string | null; output: string }>((resolve) => {
        const child = execFile(
          "/bin/sh",
          ["-c", `ulimit -t ${CPU_SECONDS} && exec "$0" "$@"`, process.execPath, "node_modules/typescript/bin/tsc", "-p", project, "--noEmit"],
          { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
          (_err, stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, output: stdout + stderr }),
        );
      });
      expect(run.signal, `tsc killed (past ${CPU_SECONDS} CPU seconds, or out of memory)`).to.equal(null);
      expect(run.output, "tsc output").to.equal("");
      expect(run.code).to.equal(0);
    });
  }
});
