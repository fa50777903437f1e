// CPU-bound tools (tsc, promtool) run under a bound on the CPU seconds they may use (RLIMIT_CPU),
// not on the clock: on a loaded machine their wall time has no useful bound, their CPU time does.
// A test using this sets no wall timeout of its own (this.timeout(0)). The tool runs beside the
// event loop, never blocking it.
import { execFile } from "node:child_process";

export interface Outcome {
  status: number | null;
  /** Set when the tool was killed: past its CPU seconds, or out of memory. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCpuBound(file: string, args: string[], options: { cpuSeconds: number; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = execFile(
      "/bin/sh",
      ["-c", `ulimit -t ${options.cpuSeconds} && exec "$0" "$@"`, file, ...args],
      { cwd: options.cwd, env: options.env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      (_err, stdout, stderr) => resolve({ status: child.exitCode, signal: child.signalCode, stdout, stderr }),
    );
  });
}
