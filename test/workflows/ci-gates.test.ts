// The CI gates the repository promises: Dependabot for npm and GitHub Actions, a CodeQL workflow for
// JavaScript/TypeScript, staging deploys only after ci passed for that commit, the required
// checks docs/deploy.md lists are real job names of the workflows it names, and CI's test job runs
// .ci/run, the machine packages included (as root or through sudo).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import yaml from "js-yaml";

const ROOT = join(__dirname, "..", "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

interface Job {
  name?: string;
  if?: string;
  uses?: string;
  with?: Record<string, unknown>;
  strategy?: { matrix?: Record<string, unknown> };
  steps?: { uses?: string; run?: string; with?: Record<string, unknown> }[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}
const workflow = (file: string) => yaml.load(read(`.github/workflows/${file}`)) as Workflow;

/** The check names GitHub shows for a workflow's jobs: the job name (or id), one per matrix value. */
function checkNames(wf: Workflow): string[] {
  return Object.entries(wf.jobs).flatMap(([id, job]) => {
    const name = job.name ?? id;
    const m = /\$\{\{ matrix\.(\w+) \}\}/.exec(name);
    if (!m) return [name];
    const values = job.strategy?.matrix?.[m[1]!];
    if (!Array.isArray(values)) throw new Error(`${name}: matrix.${m[1]} is not a list`);
    return values.map((v) => name.replace(m[0], String(v)));
  });
}

/** The | `check` | workflow.yml | rows of docs/deploy.md's branch-protection section. */
function requiredChecks(): { check: string; file: string }[] {
  const doc = read("docs/deploy.md");
  const section = doc.split(/^## Branch protection and required checks$/m)[1]?.split(/^## /m)[0];
  if (!section) throw new Error("docs/deploy.md has no 'Branch protection and required checks' section");
  return [...section.matchAll(/^\| `([^`]+)` \| ([\w.-]+\.ya?ml) \|$/gm)].map((m) => ({ check: m[1]!, file: m[2]! }));
}

describe("CI gates", () => {
  it("Dependabot updates npm and GitHub Actions", () => {
    const config = yaml.load(read(".github/dependabot.yml")) as { version: number; updates: { "package-ecosystem": string; directory: string; schedule: { interval: string } }[] };
    expect(config.version).to.equal(2);
    const ecosystems = config.updates.map((u) => u["package-ecosystem"]);
    expect(ecosystems).to.include.members(["npm", "github-actions"]);
    for (const u of config.updates) {
      expect(u.directory, u["package-ecosystem"]).to.equal("/");
      expect(u.schedule.interval, u["package-ecosystem"]).to.be.oneOf(["daily", "weekly"]);
    }
  });

  it("CodeQL analyses JavaScript/TypeScript on pull requests and main", () => {
    const wf = workflow("codeql.yml");
    expect(wf.on).to.have.keys("pull_request", "push", "schedule");
    const steps = Object.values(wf.jobs).flatMap((j) => j.steps ?? []);
    const init = steps.find((s) => s.uses?.startsWith("github/codeql-action/init@"));
    expect(init?.with?.languages).to.equal("javascript-typescript");
    expect(steps.some((s) => s.uses?.startsWith("github/codeql-action/analyze@"))).to.equal(true);
  });

  it("deploy-staging runs only after a successful ci run of a push to main, at that run's commit", () => {
    const wf = workflow("deploy-staging.yml");
    expect(Object.keys(wf.on)).to.deep.equal(["workflow_run"]);
    const trigger = wf.on.workflow_run as { workflows: string[]; types: string[]; branches: string[] };
    expect(trigger.workflows).to.deep.equal([workflow("ci.yml").name]);
    expect(trigger.types).to.deep.equal(["completed"]);
    expect(trigger.branches).to.deep.equal(["main"]);
    for (const [id, job] of Object.entries(wf.jobs)) {
      expect(job.if, id).to.contain("github.event.workflow_run.conclusion == 'success'");
      expect(job.if, id).to.contain("github.event.workflow_run.event == 'push'");
    }
    expect(wf.jobs.deploy!.with!.ref).to.equal("${{ github.event.workflow_run.head_sha }}");
  });

  it("docs/deploy.md lists required checks that are job names of the workflows it names, ci's jobs and CodeQL included", () => {
    const listed = requiredChecks();
    expect(listed.length).to.be.greaterThan(0);
    for (const { check, file } of listed) expect(checkNames(workflow(file)), `${check} (${file})`).to.include(check);
    const ciChecks = checkNames(workflow("ci.yml"));
    expect(listed.filter((l) => l.file === "ci.yml").map((l) => l.check)).to.have.members(ciChecks);
    expect(listed.some((l) => l.file === "codeql.yml")).to.equal(true);
  });

  it("the name check catches a renamed job", () => {
    const wf = workflow("ci.yml");
    const renamed: Workflow = { ...wf, jobs: { ...wf.jobs, audit: { ...wf.jobs.audit!, name: "npm audit" } } };
    expect(checkNames(renamed)).to.not.include("dependency audit");
    expect(checkNames(wf)).to.include.members(["offline plan (staging)", "offline plan (production)"]);
  });

  it("ci's test job runs .ci/run, which installs the test packages before npm ci and npm test", () => {
    const job = workflow("ci.yml").jobs.test!;
    expect((job.steps ?? []).flatMap((step) => (step.run ? [step.run] : []))).to.deep.equal(["bash .ci/run"]);
    const commands = read(".ci/run")
      .split("\n")
      .filter((line) => line && !line.startsWith("#") && !/^(set|cd) /.test(line));
    expect(commands).to.deep.equal(["bash scripts/install-test-packages.sh", "npm ci --no-audit --no-fund", "npm test"]);
  });

  describe("scripts/install-test-packages.sh", () => {
    // apt-get, sudo and id are stand-ins recording their calls (installing packages is out of a
    // test's reach); PATH holds only them, so `command -v` finds exactly the tools a case provides.
    let bin = "";
    const log = () => join(bin, "calls.log");
    const tool = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    const install = (uid: number, present: string[]) => {
      if (bin) rmSync(bin, { recursive: true, force: true });
      bin = mkdtempSync(join(tmpdir(), "twist-install-packages-"));
      writeFileSync(log(), "");
      tool("id", `echo ${uid}`);
      tool("sudo", `echo "sudo $*" >> ${log()}; exec "$@"`);
      tool("apt-get", `echo "apt-get $*" >> ${log()}`);
      symlinkSync("/usr/bin/env", join(bin, "env"));
      for (const name of present) tool(name, "exit 0");
      const run = spawnSync("/bin/bash", [join(ROOT, "scripts", "install-test-packages.sh")], { env: { PATH: bin }, encoding: "utf8" });
      return { status: run.status, stdout: run.stdout, stderr: run.stderr, calls: readFileSync(log(), "utf8").trim().split("\n").filter(Boolean) };
    };
    after(() => rmSync(bin, { recursive: true, force: true }));

    const installLine = "apt-get install -y -qq --no-install-recommends";

    it("as a non-root user (GitHub's runner) installs what is missing through sudo", () => {
      const run = install(1001, ["chromium"]);
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout).to.equal("installing prometheus prometheus-alertmanager (through sudo)\n");
      expect(run.calls).to.deep.equal([
        "sudo apt-get update -qq",
        "apt-get update -qq",
        `sudo env DEBIAN_FRONTEND=noninteractive ${installLine} prometheus prometheus-alertmanager`,
        `${installLine} prometheus prometheus-alertmanager`,
      ]);
    });

    it("as root installs directly, and installs nothing when every tool is there", () => {
      const run = install(0, ["prometheus", "promtool"]);
      expect(run.status, run.stderr).to.equal(0);
      expect(run.calls).to.deep.equal(["apt-get update -qq", `${installLine} chromium prometheus-alertmanager`]);
      const none = install(1001, ["chromium", "prometheus", "promtool", "amtool"]);
      expect(none.status, none.stderr).to.equal(0);
      expect(none.stdout).to.equal("");
      expect(none.calls).to.deep.equal([]);
    });
  });
});
