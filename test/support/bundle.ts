// Runs a service's esbuild bundle the way its container image does: copied alone into a folder
// outside the repository (no node_modules to fall back on) and started with only the given env.
import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { images } from "../../scripts/build.mjs";

export const ROOT = join(__dirname, "..", "..");

/** Bundles built by this process already (one build serves every image made from it). */
const built = new Set<string>();

/**
 * Builds the bundle of `image` (scripts/build.mjs `images`: auth, influencer, migrate, backup) and
 * copies into a fresh temporary folder exactly what its Dockerfile's COPY lines copy into the
 * image's WORKDIR from its build context, dist/images/<image>, staged by the build; returns the folder.
 */
export function isolatedBundle(image: string): string {
  const spec = images.find((i) => i.name === image);
  expect(spec, `an image named ${image}`).to.not.equal(undefined);
  if (!built.has(spec!.bundle)) {
    const build = spawnSync(process.execPath, ["scripts/build.mjs", spec!.bundle], { cwd: ROOT, encoding: "utf8" });
    expect(build.status, build.stderr).to.equal(0);
    built.add(spec!.bundle);
  }
  const dir = mkdtempSync(join(tmpdir(), `twist-${image}-bundle-`));
  const dockerfile = readFileSync(join(ROOT, spec!.dockerfile), "utf8");
  const context = join(ROOT, "dist", "images", image);
  for (const [, args] of dockerfile.matchAll(/^COPY (.+)$/gm)) {
    const parts = args!.trim().split(/\s+/);
    if (parts[0]!.startsWith("--from=")) continue;
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
