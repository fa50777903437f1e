// `npm run plan -- --against <ref>`: the change set a reviewer without credentials reads. Each case
// takes this commit's tree (built in a temporary directory), copies it, makes one kind of change,
// builds the copy with its own build script and diffs the two evaluations.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliUsageError } from "../../scripts/lib/cli";
import { parseArgs, planChanges } from "../../scripts/plan";
import { buildTree, checkoutCommit, resolveRef, sharePackages } from "../offline/checkout";
import type { ResourceChange } from "../offline/diff";
import { REPO_ROOT } from "../offline/evaluate";

const NEVER_REPLACED_BY_CODE = ["postgres", "redis", "cloudflared", "vol-pgdata", "vol-redisdata", "net-data", "net-edge"];
const summary = (changes: ResourceChange[]) => changes.map((c) => `${c.op} ${c.name}`).sort();

describe("npm run plan -- --against: the offline change set", function () {
  this.timeout(600_000);
  let sha: string;
  let baseDir: string;
  const copies: string[] = [];

  before(() => {
    sha = resolveRef(REPO_ROOT, "HEAD");
    baseDir = checkoutCommit(REPO_ROOT, sha);
  });
  after(() => {
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  /** The base tree with one change, rebuilt, diffed against the base. */
  async function changed(edit: (dir: string) => void): Promise<ResourceChange[]> {
    const head = mkdtempSync(join(tmpdir(), "twist-plan-head-"));
    copies.push(head);
    // Sources copied (an edit must not reach the base through a shared inode), packages shared.
    cpSync(baseDir, head, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.split("/").includes("node_modules") });
    sharePackages(baseDir, head);
    edit(head);
    buildTree(head);
    const phases: string[] = [];
    const { changes } = await planChanges({ stack: "staging", baseDir, baseCommit: sha, headDir: head, headCommit: "c".repeat(40), progress: (p) => phases.push(p) });
    expect(phases).to.deep.equal([`evaluating the program at ${sha.slice(0, 12)}`, `evaluating the program in ${head}`, "diffing the two evaluations"]);
    for (const name of NEVER_REPLACED_BY_CODE)
      expect(
        changes.map((c) => c.name),
        `${name} untouched by a code change`,
      ).not.to.include(name);
    return changes;
  }

  it("builds the exported tree's bundles from packages inside it: no module path leads back into this checkout", () => {
    // esbuild heads each bundled module with its path; one through a symlink into this checkout
    // would differ from this checkout's own build and show every Worker and image as changed.
    for (const bundle of ["edge/index.js", "influencer/main.js", "auth/main.js"]) {
      const paths = readFileSync(join(baseDir, "dist", bundle), "utf8").match(/^\/\/ \S+\.[cm]?[jt]s$/gm) ?? [];
      expect(paths.length, bundle).to.be.greaterThan(10);
      expect(
        paths.filter((p) => p.startsWith("// ../")),
        bundle,
      ).to.deep.equal([]);
    }
  });

  it("a docs-only change shows no changes", async () => {
    expect(await changed((dir) => appendFileSync(join(dir, "docs", "deploy.md"), "\nA reviewer's note.\n"))).to.deep.equal([]);
  });

  it("a change to runtime/edge shows one Worker update (its bundle hash) and nothing else", async () => {
    const changes = await changed((dir) => appendFileSync(join(dir, "runtime", "edge", "src", "index.ts"), '\nexport const PLAN_PROBE = "edge";\n'));
    expect(summary(changes)).to.deep.equal(["update worker"]);
    expect(changes[0]!.properties.map((p) => p.path))
      .to.include("contentSha256")
      .and.not.to.include("content");
  });

  it("a change to runtime/influencer replaces only the influencer and settlement containers (their image rebuilt)", async () => {
    const changes = await changed((dir) =>
      appendFileSync(join(dir, "runtime", "influencer", "src", "main.ts"), '\n(globalThis as Record<string, unknown>).PLAN_PROBE = "influencer";\n'),
    );
    expect(summary(changes)).to.deep.equal(["replace influencer", "replace settlement", "update image-influencer"]);
    for (const c of changes.filter((x) => x.op === "replace")) expect(c.forceNew, c.name).to.include("image");
  });

  it("a change to the backup code replaces only the backup job: the influencer image's context does not hold it", async () => {
    const changes = await changed((dir) =>
      appendFileSync(join(dir, "runtime", "influencer", "src", "backup", "main.ts"), '\n(globalThis as Record<string, unknown>).PLAN_PROBE = "backup";\n'),
    );
    expect(summary(changes)).to.deep.equal(["replace backup", "update image-backup"]);
    expect(changes.find((c) => c.name === "backup")!.forceNew).to.include("image");
  });

  it("a change to the migrations re-runs the migration job and rebuilds the backup job (restore.js checks them), not the API", async () => {
    const changes = await changed((dir) =>
      appendFileSync(join(dir, "runtime", "influencer", "src", "migrations", "index.ts"), '\n(globalThis as Record<string, unknown>).PLAN_PROBE = "migration";\n'),
    );
    // The influencer image's context does not hold them: the API and settlement containers stay.
    expect(summary(changes)).to.deep.equal(["replace backup", "replace migrate", "update image-backup", "update image-migrate"]);
    expect(changes.find((c) => c.name === "migrate")!.forceNew).to.deep.equal(["triggers"]);
  });
});

describe("npm run plan: command line", function () {
  this.timeout(120_000);
  const usage = (argv: string[]) => {
    try {
      parseArgs(argv);
    } catch (err) {
      if (err instanceof CliUsageError) return { code: err.exitCode, message: err.message };
      throw err;
    }
    return undefined;
  };

  it("--help exits 0 with the usage; an unknown flag or a missing value exits 2 naming it", () => {
    expect(usage(["--help"])).to.deep.include({ code: 0 });
    expect(usage(["--help"])!.message).to.contain("--against <ref>");
    expect(usage(["--bogus"])).to.deep.include({ code: 2 });
    expect(usage(["--bogus"])!.message).to.contain("--bogus");
    expect(usage(["--against"])!.message).to.match(/--against/);
    expect(usage(["--stack", "qa"])).to.deep.include({ code: 2 });
    expect(usage(["--stack", "qa"])!.message).to.contain('unknown stack "qa"');
    expect(parseArgs(["--stack", "staging", "--against", "main"])).to.deep.include({ stacks: ["staging"], against: "main" });
  });

  it("a run shows its progress on stderr, stack by stack and phase by phase, and keeps stdout the plan alone", () => {
    const plan = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "scripts", "plan.ts"), "--stack", "staging"], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(plan.status, plan.stderr).to.equal(0);
    expect(plan.stdout.startsWith('=== Plan for stack "staging" ===\n'), plan.stdout.slice(0, 200)).to.equal(true);
    expect(plan.stdout).not.to.match(/^plan \[/m);
    const progress = plan.stderr
      .split("\n")
      .filter((l) => /^plan \[\d+\.\d s\] /.test(l))
      .map((l) => l.replace(/^plan \[\d+\.\d s\] /, ""));
    const planned = /^Resources \((\d+)\), in dependency order:$/m.exec(plan.stdout)?.[1];
    expect(progress).to.deep.equal(["staging: evaluating infra/index.ts offline", `staging: running the policy pack over ${planned} resources`, "staging: done"]);
  });

  it("the process exits 2 on a usage mistake and 2 on a ref that is not a commit", () => {
    const plan = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "scripts", "plan.ts"), ...args], { cwd: REPO_ROOT, encoding: "utf8" });
    const bogus = plan("--bogus");
    expect(bogus.status).to.equal(2);
    expect(bogus.stderr).to.contain("--bogus");
    const badRef = plan("--stack", "staging", "--against", "no-such-ref-anywhere");
    expect(badRef.status).to.equal(2);
    expect(badRef.stderr).to.contain("--against no-such-ref-anywhere: not a commit");
  });
});
