import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { commitOf, parseHistory, pickRollbackTarget, RollbackError, runCli, wasDeployed, type HistoryEntry } from "../../scripts/rollback";

// Fixtures follow the JSON that `pulumi stack history --json` prints (newest first, `version` 0 on
// a self-managed backend, `twist:commit` config set by the deploy workflows, `git.head` recorded by
// the CLI). See test/rollback/fixtures/README.md.
const FIXTURES = join(__dirname, "fixtures");
const fixture = (name: string): HistoryEntry[] => parseHistory(JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")));
const C1 = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
const C2 = "2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";
const C3 = "3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f";
const C4 = "4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70";
const C5 = "5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081";

function rollbackError(fn: () => unknown): RollbackError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(RollbackError);
    return err as RollbackError;
  }
  throw new Error("expected a RollbackError");
}

describe("rollback: choosing the commit from stack history", () => {
  it("normal history: the previous successful update, skipping refreshes and re-runs of the current commit", () => {
    const choice = pickRollbackTarget(fixture("normal"));
    expect(choice.commit).to.equal(C3);
    expect(choice.from).to.equal(C4);
    expect(choice.reason).to.equal("previous-success");
    expect(choice.index).to.equal(2);
  });

  it("history whose last update failed: the last successful update before it", () => {
    const choice = pickRollbackTarget(fixture("last-failed"));
    expect(choice.commit).to.equal(C4);
    expect(choice.from).to.equal(C5);
  });

  it("requested commit (prefix or full SHA): that commit, when it deployed successfully", () => {
    expect(pickRollbackTarget(fixture("normal"), { target: C2.slice(0, 7) }).commit).to.equal(C2);
    expect(pickRollbackTarget(fixture("normal"), { target: C1.toUpperCase() }).commit).to.equal(C1);
    expect(pickRollbackTarget(fixture("normal"), { target: C2 }).reason).to.equal("requested-commit");
  });

  it("requested version on a backend that numbers updates (Pulumi Cloud)", () => {
    const choice = pickRollbackTarget(fixture("cloud-versions"), { target: "5" });
    expect(choice.commit).to.equal(C2);
    expect(choice.reason).to.equal("requested-version");
    expect(pickRollbackTarget(fixture("cloud-versions")).commit).to.equal(C3);
  });

  it("history with no earlier success: a clear error, no commit", () => {
    const err = rollbackError(() => pickRollbackTarget(fixture("no-earlier-success")));
    expect(err.code).to.equal("NO_EARLIER_SUCCESS");
    expect(err.message).to.contain("no earlier version to roll back to");
    expect(err.message).to.contain(C2);
    expect(rollbackError(() => pickRollbackTarget(fixture("first-deploy"))).code).to.equal("NO_EARLIER_SUCCESS");
    expect(rollbackError(() => pickRollbackTarget([])).code).to.equal("EMPTY_HISTORY");
  });

  it("refuses a requested update that failed, was never deployed, or is the current one", () => {
    expect(rollbackError(() => pickRollbackTarget(fixture("last-failed"), { target: C5 })).code).to.equal("TARGET_NOT_SUCCESSFUL");
    expect(rollbackError(() => pickRollbackTarget(fixture("cloud-versions"), { target: "8" })).code).to.equal("TARGET_NOT_SUCCESSFUL");
    expect(rollbackError(() => pickRollbackTarget(fixture("normal"), { target: "deadbeefcafe" })).code).to.equal("TARGET_NOT_FOUND");
    expect(rollbackError(() => pickRollbackTarget(fixture("cloud-versions"), { target: "42" })).code).to.equal("TARGET_NOT_FOUND");
    expect(rollbackError(() => pickRollbackTarget(fixture("normal"), { target: C4 })).code).to.equal("TARGET_IS_CURRENT");
  });

  it("refuses a version number on a self-managed backend, where every version is 0", () => {
    const err = rollbackError(() => pickRollbackTarget(fixture("normal"), { target: "3" }));
    expect(err.code).to.equal("VERSIONS_UNAVAILABLE");
    expect(err.message).to.contain("commit SHA");
  });

  it("rejects a malformed target instead of guessing", () => {
    for (const target of ["HEAD~1", "abc", "v1.2", "0", "-1", "3c4d5e6; rm -rf /"]) {
      expect(rollbackError(() => pickRollbackTarget(fixture("normal"), { target })).code, target).to.equal("INVALID_TARGET");
    }
  });

  it("after a rollback, the next default rollback undoes it (previous distinct commit)", () => {
    const choice = pickRollbackTarget(fixture("after-rollback"));
    expect(choice.from).to.equal(C3);
    expect(choice.commit).to.equal(C5);
  });

  it("reads the commit from twist:commit first, then git.head; never from ci.pr.headSHA", () => {
    const [rollbackEntry] = fixture("after-rollback");
    expect(rollbackEntry!.environment!["ci.pr.headSHA"]).to.equal(C5);
    expect(commitOf(rollbackEntry!)).to.equal(C3);
    const laptop = fixture("laptop-git-head");
    expect(commitOf(laptop[0]!)).to.equal(C3);
    expect(commitOf(laptop[2]!)).to.equal(undefined);
    expect(pickRollbackTarget(laptop).commit).to.equal(C2);
    expect(commitOf({ kind: "update", config: { "twist:commit": { value: "not-a-sha", secret: false } }, environment: { "git.head": C1 } })).to.equal(C1);
  });

  it("wasDeployed: only successful updates count", () => {
    expect(wasDeployed(fixture("last-failed"), C4)).to.equal(true);
    expect(wasDeployed(fixture("last-failed"), C5)).to.equal(false);
  });

  it("rejects input that is not stack history", () => {
    for (const bad of [{}, "x", [null], [{ version: 1 }], [{ kind: "update", environment: "git.head" }]]) {
      expect(rollbackError(() => parseHistory(bad)).code).to.equal("INVALID_HISTORY");
    }
  });
});

describe("rollback CLI", () => {
  const read = (file: string | undefined) => readFileSync(join(FIXTURES, file ?? "normal.json"), "utf8");

  it("prints only the commit on stdout and explains on stderr", () => {
    const out = runCli(["--file", "last-failed.json"], read);
    expect(out).to.include({ code: 0, stdout: `${C4}\n` });
    expect(out.stderr).to.contain(`${C5} -> ${C4}`);
  });

  it("--json describes the choice", () => {
    const out = runCli(["--file", "normal.json", "--target", C2.slice(0, 10), "--json"], read);
    expect(out.code).to.equal(0);
    expect(JSON.parse(out.stdout)).to.deep.include({ commit: C2, from: C4, reason: "requested-commit" });
  });

  it("--require-deployed gates a production deploy on staging history", () => {
    expect(runCli(["--file", "normal.json", "--require-deployed", C3], read).code).to.equal(0);
    const refused = runCli(["--file", "normal.json", "--require-deployed", C5], read);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain("no successful update");
  });

  it("exits 1 with a message for no earlier success, bad JSON and unknown arguments", () => {
    const none = runCli(["--file", "no-earlier-success.json"], read);
    expect(none).to.include({ code: 1, stdout: "" });
    expect(none.stderr).to.match(/^error \[NO_EARLIER_SUCCESS\]/);
    expect(runCli([], () => "not json").stderr).to.contain("INVALID_HISTORY");
    // Usage mistakes exit 2 naming the flag (scripts/lib/cli.ts); --help exits 0 with the usage.
    expect(runCli(["--bogus"], read)).to.deep.include({ code: 2 });
    expect(runCli(["--bogus"], read).stderr).to.contain("--bogus");
    expect(runCli(["--target"], read)).to.deep.include({ code: 2 });
    expect(runCli(["--target"], read).stderr).to.contain("--target");
    expect(runCli(["--help"], read)).to.deep.include({ code: 0 });
    expect(runCli(["--help"], read).stdout).to.contain("current program, config and secrets");
  });

  it("runs as a script reading history from stdin (as rollback.yml does)", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/rollback.ts"], {
      input: readFileSync(join(FIXTURES, "last-failed.json")),
      encoding: "utf8",
    });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.equal(`${C4}\n`);
    const failed = spawnSync(process.execPath, ["--import", "tsx", "scripts/rollback.ts", "--file", join(FIXTURES, "first-deploy.json")], { encoding: "utf8" });
    expect(failed.status).to.equal(1);
    expect(failed.stderr).to.contain("NO_EARLIER_SUCCESS");
  });
});
