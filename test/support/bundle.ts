// Runs a service's esbuild bundle the way its container image does: copied alone into a folder
// outside the repository (no node_modules to fall back on) and started with only the given env.
import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(__dirname, "..", "..");

/** Builds `service` and copies the named dist files into a fresh temporary folder; returns it. */
export function isolatedBundle(service: string, files: string[]): string {
  const build = spawnSync(process.execPath, ["scripts/build.mjs", service], { cwd: ROOT, encoding: "utf8" });
  expect(build.status, build.stderr).to.equal(0);
  const dir = mkdtempSync(join(tmpdir(), `twist-${service}-bundle-`));
  for (const file of files) copyFileSync(join(ROOT, "dist", service, file), join(dir, file));
  return dir;
}

export function run(file: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [file], { cwd: join(file, ".."), env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
}

export async function output(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}
