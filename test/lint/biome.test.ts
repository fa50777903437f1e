// Lint and format are part of the suite: `biome ci .` (biome.json: the recommended rules, the
// formatter settings) must pass on the whole tree, warnings included, and a failure lists what it found.
// No source carries another linter's suppressions: nothing reads them, so they only mislead.
import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/bundle";

function biomeCi(): Promise<{ code: number | null; output: string }> {
  const bin = require.resolve("@biomejs/biome/bin/biome");
  const child = spawn(process.execPath, [bin, "ci", ".", "--error-on-warnings", "--reporter=summary", "--colors=off"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("lint and format (Biome)", function () {
  this.timeout(240_000);
  it("biome ci . finds nothing: no lint finding, every file formatted", async () => {
    const { code, output } = await biomeCi();
    expect(code, `biome ci . found:\n${output}`).to.equal(0);
  });

  it("no tracked source carries an ESLint suppression comment (Biome's are biome-ignore, with a reason)", () => {
    const tracked = spawnSync("git", ["ls-files", "*.ts", "*.mjs", "*.cjs", "*.js"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    expect(tracked.length).to.be.greaterThan(100);
    const stale = tracked.filter((file) => /eslint-(disable|enable)/.test(readFileSync(join(ROOT, file), "utf8")));
    expect(stale).to.deep.equal([]);
  });
});
