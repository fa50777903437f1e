// The Prometheus binaries the monitoring tests run: Debian's `prometheus` package (promtool,
// prometheus) and `prometheus-alertmanager` (amtool). Missing, the test says which install step.
import { spawnSync } from "node:child_process";

export const INSTALL_STEP =
  "run `bash scripts/install-test-packages.sh` (the README's test step and .ci/run; it does apt-get install -y --no-install-recommends prometheus prometheus-alertmanager)";

/** Absolute path of `name` on PATH; throws an error naming the install step when it is missing. */
export function requireTool(name: "promtool" | "prometheus" | "amtool", searchPath = process.env.PATH ?? ""): string {
  const found = spawnSync("/bin/sh", ["-c", `command -v ${name}`], { encoding: "utf8", env: { PATH: searchPath } });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) throw new Error(`${name} is not installed: ${INSTALL_STEP}`);
  return path;
}
