// Shutdown writes every log line before the process exits, read from the child's own stdout. When
// the pipe is full pino's destination buffers the rest, and a bare process.exit would drop it.
import { expect } from "chai";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..", "..");

describe("service shutdown: the last log line is always written", function () {
  this.timeout(60_000);

  it("a burst of 20,000 lines during stop, then `stopped`, all reach stdout before exit 0", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "fixtures", "shutdown-burst.ts")], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = once(child, "exit") as Promise<[number | null]>;
    while (!stdout.includes('"msg":"running"') && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    // A slow reader (a loaded machine, a busy log shipper): the pipe fills, pino holds the rest.
    child.stdout!.pause();
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 1000));
    child.stdout!.resume();
    const [code] = await exited;
    expect(code, stderr).to.equal(0);
    const lines = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; i?: number });
    expect(lines.filter((l) => l.msg === "draining")).to.have.length(20_000);
    expect(lines.at(-2)).to.include({ msg: "draining", i: 19_999 });
    expect(lines.at(-1)).to.include({ msg: "stopped" });
  });

  it("stays alive until a stop step that holds no handle ends, then logs `stopped` and exits 0", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "fixtures", "shutdown-idle-stop.ts")], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout!.on("data", (d) => (stdout += d));
    const exited = once(child, "exit") as Promise<[number | null]>;
    while (!stdout.includes('"msg":"running"') && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code).to.equal(0);
    const messages = stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages).to.deep.equal(["running", "shutting down", "stop step done", "stopped"]);
  });
});
