// Test ports (test/support/ports.ts): drawn below the kernel's ephemeral range and reserved across
// processes, so a port handed to one test is not taken by another process before its service binds it.
import { expect } from "chai";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { ephemeralStart, freePort, LOWEST, RESERVATIONS, reservePort } from "./ports";

const owner = (port: number) => Number(readFileSync(join(RESERVATIONS, String(port)), "utf8"));

async function listens(port: number): Promise<boolean> {
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => resolve(true));
  });
  if (ok) await new Promise((r) => server.close(r));
  return ok;
}

describe("test ports", () => {
  it("come from below the ephemeral range, distinct under concurrent calls, reserved by this process and bindable", async () => {
    const ports = await Promise.all(Array.from({ length: 40 }, () => freePort()));
    expect(new Set(ports).size).to.equal(ports.length);
    for (const port of ports) {
      expect(port).to.be.at.least(LOWEST).and.below(ephemeralStart());
      expect(owner(port)).to.equal(process.pid);
      expect(await listens(port), String(port)).to.equal(true);
    }
  });

  it("a reservation held by a live process is refused, and taken over once that process has ended", async () => {
    const port = await freePort();
    expect(reservePort(port), "already ours").to.equal(false);
    const other = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    try {
      writeFileSync(join(RESERVATIONS, String(port)), String(other.pid));
      expect(reservePort(port), "held by a live process").to.equal(false);
      expect(owner(port)).to.equal(other.pid);
    } finally {
      const exited = once(other, "exit");
      other.kill("SIGKILL");
      await exited;
    }
    expect(reservePort(port), "its process has ended").to.equal(true);
    expect(owner(port)).to.equal(process.pid);
  });
});
