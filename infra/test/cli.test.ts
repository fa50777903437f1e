import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { REPO_ROOT } from "../offline/evaluate";
import { evaluated } from "./helpers";

// The CLI runs the program through ts-node as CommonJS, not through tsx: this checks that path
// (Pulumi.yaml -> infra/ -> infra/tsconfig.json -> the SDK's ts-node, type-checking included).
describe("infra under the Pulumi CLI's TypeScript loader", function () {
  this.timeout(120_000);

  it("Pulumi.yaml points at infra/ and a CommonJS tsconfig", () => {
    const project = load(readFileSync(join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { name: string; main: string; runtime: { name: string; options: { tsconfig: string } } };
    expect(project.name).to.equal("twist");
    expect(project.main).to.equal("infra/");
    expect(project.runtime.name).to.equal("nodejs");
    const tsconfig = readFileSync(join(REPO_ROOT, project.main, project.runtime.options.tsconfig), "utf8");
    expect(tsconfig).to.match(/"module": "commonjs"/);
    expect(JSON.parse(readFileSync(join(REPO_ROOT, "infra", "package.json"), "utf8")).main).to.equal("index.ts");
  });

  it("compiles and evaluates the program with ts-node and infra/tsconfig.json", async () => {
    const project = load(readFileSync(join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { main: string; runtime: { options: { tsconfig: string } } };
    const run = spawnSync(process.execPath, [join(__dirname, "fixtures", "cli-ts-node.cjs"), "staging"], {
      cwd: join(REPO_ROOT, project.main),
      env: { ...process.env, PULUMI_NODEJS_TSCONFIG_PATH: project.runtime.options.tsconfig, NODE_OPTIONS: "" },
      encoding: "utf8",
    });
    expect(run.stderr, "stderr").to.equal("");
    expect(run.status).to.equal(0);
    const summary = JSON.parse(run.stdout.trim().split("\n").pop()!) as { resources: number; workerName: string };
    const viaTsx = await evaluated("staging");
    expect(summary).to.deep.equal({ resources: viaTsx.resources.length, workerName: "twist-vau-staging" });
  });
});
