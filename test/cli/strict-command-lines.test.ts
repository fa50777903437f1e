// smoke, scan-secrets, start, dev, bench/run and every bench/<name>/run.ts parse their command lines
// strictly (scripts/lib/cli.ts): --help prints the usage and exits 0 doing nothing else; an unknown
// flag, a missing value or a bad value exits 2 naming it. A mistyped --target never falls back to
// the local platform.
import { expect } from "chai";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/bundle";
import { runCpuBound } from "../support/cpu-bound";
import { freePort } from "../support/ports";

// Each run transpiles its script (tsx): CPU-bound, so bounded by CPU seconds, not the clock (a
// loaded run took 10 s of wall time for one test).
async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = await runCpuBound(command, args, { cwd: ROOT, env: { ...process.env, ...env }, cpuSeconds: 60 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
const cli = (script: string, args: string[], env: Record<string, string> = {}) => run(process.execPath, ["--import", "tsx", `scripts/${script}.ts`, ...args], env);

// A bench that went past its command line would connect to Postgres or Redis, listen or start a
// child within moments: the tripwire ends it there (exit 97, naming what), so "did nothing else" is
// asserted, not inferred from a timeout.
const TRIPWIRE = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${join(__dirname, "side-effect-tripwire.cjs")}`.trim() };
const BENCHES = readdirSync(join(ROOT, "bench"), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(ROOT, "bench", d.name, "run.ts")))
  .map((d) => d.name)
  .sort();
/** bench/run itself (the shell entry), then each benchmark as its usage says to run it. */
const BENCH_COMMANDS = [
  { label: "bench/run", usage: "usage: bench/run", command: join(ROOT, "bench", "run"), args: [] as string[] },
  ...BENCHES.map((name) => ({
    label: `bench/${name}/run.ts`,
    usage: `usage: npx tsx bench/${name}/run.ts`,
    command: process.execPath,
    args: ["--import", "tsx", `bench/${name}/run.ts`],
  })),
];

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

describe("strict command lines: bench/run and every bench/<name>/run.ts", function () {
  // Only a backstop: the tripwire ends a bench that went on running at its first connection.
  this.timeout(600_000);

  it("finds every benchmark folder, and the tripwire stops a command at its first connection, listener or child", async () => {
    expect(BENCHES).to.include.members(["auth", "clicks", "edge", "ledger"]);
    for (const code of ["fetch('http://127.0.0.1:5432/')", "require('node:net').createServer().listen(0)", "require('node:child_process').spawnSync('true')"]) {
      const result = await run(process.execPath, ["-e", code], TRIPWIRE);
      expect(result.code, code).to.equal(97);
      expect(result.stderr, code).to.match(/^tripwire: (TCP connection|listening socket|child process)/);
    }
    // A bench given valid flags starts: the tripwire stops it at its first step, building its bundle.
    const started = await run(process.execPath, ["--import", "tsx", "bench/ledger/run.ts", "--seconds", "1"], TRIPWIRE);
    expect(started.code, started.stderr).to.equal(97);
    expect(started.stderr).to.include("tripwire: child process");
  });

  for (const { label, usage, command, args } of BENCH_COMMANDS) {
    it(`${label} --help prints its usage on stdout and exits 0, connecting, listening and spawning nothing`, async () => {
      const result = await run(command, [...args, "--help"], TRIPWIRE);
      expect(result.stderr).to.equal("");
      expect(result.code).to.equal(0);
      expect(result.stdout.startsWith(usage), result.stdout).to.equal(true);
      if (label === "bench/run") for (const name of BENCHES) expect(result.stdout, name).to.include(name);
    });

    it(`${label} refuses an unknown flag with exit 2, naming it, before starting anything`, async () => {
      const result = await run(command, [...args, "--verbose"], TRIPWIRE);
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr)
        .to.match(/^error: Unknown option '--verbose'/)
        .and.to.include(usage);
      expect(result.stdout).to.equal("");
    });
  }
});
