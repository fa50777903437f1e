// A service of the local platform run as a child process from its real bundle, as in production.
import { spawn, type ChildProcess } from "node:child_process";

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** The last lines it printed, for diagnostics when it fails. */
  tail(): string;
  stop(): Promise<void>;
}

export function startProcess(name: string, script: string, env: Record<string, string>, onLine?: (line: string) => void): ServiceProcess {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) {
      if (!line) continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
      onLine?.(line);
    }
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  // However the launcher ends (a crash, process.exit), its services end with it, never orphaned.
  const orphanGuard = () => child.kill("SIGTERM");
  process.once("exit", orphanGuard);
  child.once("exit", () => process.removeListener("exit", orphanGuard));
  return {
    name,
    child,
    tail: () => lines.join("\n"),
    stop: () => stopChild(child),
  };
}

/** Runs a one-shot job (the migration) to completion; rejects with its output when it fails. */
export async function runJob(name: string, script: string, env: Record<string, string>, onLine?: (line: string) => void): Promise<void> {
  const job = startProcess(name, script, env, onLine);
  const code = await new Promise<number | null>((resolve) => job.child.once("exit", resolve));
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${job.tail()}`);
}

function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Polls `url` until it answers 200, the process dies, or the timeout passes. The bound is generous:
 * a service starting on a loaded machine is slow, not broken; a dead one is reported at once.
 */
export async function waitUntilReady(url: string, service: ServiceProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) throw new Error(`${service.name} exited with ${service.child.exitCode}:\n${service.tail()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${service.name} was not ready at ${url} within ${timeoutMs} ms:\n${service.tail()}`);
}
