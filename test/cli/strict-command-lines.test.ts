// smoke, scan-secrets, start and dev parse their command lines strictly (scripts/lib/cli.ts): --help
// prints the usage and exits 0 doing nothing else; an unknown flag, a missing value or a bad value
// exits 2 naming it. A mistyped --target never falls back to the local platform.
import { expect } from "chai";
import { ROOT } from "../support/bundle";
import { runCpuBound } from "../support/cpu-bound";
import { freePort } from "../support/ports";

// Each run transpiles its script (tsx): CPU-bound, so bounded by CPU seconds, not the clock (a
// loaded run took 10 s of wall time for one test).
async function cli(script: string, args: string[], env: Record<string, string> = {}) {
  const result = await runCpuBound(process.execPath, ["--import", "tsx", `scripts/${script}.ts`, ...args], { cwd: ROOT, env: { ...process.env, ...env }, cpuSeconds: 60 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("strict command lines: smoke, scan-secrets, start, dev", function () {
  // Only a backstop for a script that wrongly went on running (start serving, smoke waiting on a target).
  this.timeout(600_000);

  for (const script of ["smoke", "scan-secrets", "start", "dev"]) {
    it(`${script} --help prints its usage on stdout and exits 0, doing nothing else`, async () => {
      const result = await cli(script, ["--help"]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.match(/^usage: npm (run )?\S+/);
      expect(result.stdout).to.not.match(/smoke test against|no secrets found|building bundles/);
      expect(result.stderr).to.equal("");
    });

    it(`${script} refuses an unknown flag with exit 2, naming it`, async () => {
      const result = await cli(script, ["--verbose"]);
      expect(result.code).to.equal(2);
      expect(result.stderr)
        .to.match(/^error: Unknown option '--verbose'/)
        .and.to.include("usage: npm");
      expect(result.stdout).to.equal("");
    });
  }

  it("smoke --target with no value exits 2 naming --target", async () => {
    const result = await cli("smoke", ["--target"]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.match(/Option '--target <value>' argument missing/);
  });

  it("a mistyped --target exits 2 and never runs against the local platform", async () => {
    // A single URL (even a reachable one) is not a target either: three URLs or `local`.
    for (const target of ["staging", "lcoal", "https://vau.example,https://auth.example", `http://127.0.0.1:${await freePort()}`]) {
      const result = await cli("smoke", ["--target", target]);
      expect(result.code, target).to.equal(2);
      expect(result.stderr, target).to.include(`--target must be \`local\` or \`<edgeUrl>,<authUrl>,<influencerUrl>\` (got "${target}")`);
      expect(result.stdout, target).to.not.include("smoke test against");
    }
  });

  it("scan-secrets refuses a path that does not exist (exit 2 naming it) instead of scanning 0 files", async () => {
    const result = await cli("scan-secrets", ["README.md", "no/such/file.ts"]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.match(/^error: no such file: no\/such\/file\.ts/);
    const ok = await cli("scan-secrets", ["README.md"]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.equal("scan-secrets: no secrets found in 1 files\n");
  });

  it("start refuses a positional argument (exit 2) before building anything", async () => {
    const result = await cli("start", ["staging"]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.match(/^error: Unexpected argument 'staging'/);
    expect(result.stdout).to.not.include("building bundles");
  });
});
