// Lint and format are part of the suite: `biome ci .` (biome.json: the recommended rules, the
// formatter settings) must pass on the whole tree, warnings included, and a failure lists what it found.
import { expect } from "chai";
import { spawn } from "node:child_process";
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
});
