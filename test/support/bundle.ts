// Runs a service's esbuild bundle the way its container image does: copied alone into a folder
// outside the repository (no node_modules to fall back on) and started with only the given env.
import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

export const ROOT = join(__dirname, "..", "..");

/**
 * Builds `service` and copies into a fresh temporary folder exactly what its Dockerfile's COPY
 * lines copy into the image's WORKDIR from its build context, dist/images/<service>, staged by the
 * build (infra/components/backend.ts); returns the folder.
 */
export function isolatedBundle(service: string): string {
  const build = spawnSync(process.execPath, ["scripts/build.mjs", service], { cwd: ROOT, encoding: "utf8" });
  expect(build.status, build.stderr).to.equal(0);
  const dir = mkdtempSync(join(tmpdir(), `twist-${service}-bundle-`));
  const dockerfile = readFileSync(join(ROOT, "runtime", service, "Dockerfile"), "utf8");
  const context = join(ROOT, "dist", "images", service);
  for (const [, args] of dockerfile.matchAll(/^COPY (.+)$/gm)) {
    const parts = args!.trim().split(/\s+/);
    const dest = join(dir, parts.pop()!);
    for (const source of parts) cpSync(join(context, source), source.endsWith("/") ? dest : join(dest, basename(source)), { recursive: true });
  }
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

/**
 * Polls `url` until it answers `status` or the child exits (reported at once). No bound of its own:
 * the test's timeout is the backstop, since a bundle starting on a loaded machine is slow, not broken.
 */
export async function untilAnswers(url: string, child: ChildProcess, status = 200): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the process exited (${child.exitCode ?? child.signalCode}) before ${url} answered ${status}`);
    if (
      (await fetch(url).then(
        (r) => r.status,
        () => 0,
      )) === status
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
