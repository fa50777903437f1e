// A checkout of another commit for `npm run plan -- --against <ref>`: the ref's tree exported with
// `git archive` into a temporary directory (the repository's worktrees and branches are left alone),
// this checkout's installed packages shared in, and its own bundles built there, so each side of
// the diff deploys what its own sources build.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BUILT = ".twist-plan-built";

/** The full SHA of a ref, or an error naming the ref. */
export function resolveRef(repo: string, ref: string): string {
  try {
    return execFileSync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    throw new Error(`--against ${ref}: not a commit in ${repo}`);
  }
}

/**
 * The installed packages, as hard links (a copy where the file system has none): every
 * node_modules of this checkout, the root's and each workspace's. Not symlinks: esbuild names each
 * bundled module by its real path in a comment, and a path leading back into this checkout would
 * make every bundle, and every resource built from one, differ from this side's. The workspace
 * packages (@twist/*) are relative links, so they point at the tree's own sources.
 */
export function sharePackages(repo: string, dir: string): void {
  const workspaces = (JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { workspaces?: string[] }).workspaces ?? [];
  for (const folder of [".", ...workspaces]) {
    const modules = join(repo, folder, "node_modules");
    if (!existsSync(modules) || !existsSync(join(dir, folder))) continue;
    try {
      execFileSync("cp", ["-al", modules, join(dir, folder, "node_modules")], { stdio: "ignore" });
    } catch {
      rmSync(join(dir, folder, "node_modules"), { recursive: true, force: true });
      execFileSync("cp", ["-a", modules, join(dir, folder, "node_modules")], { stdio: "ignore" });
    }
  }
}

/** Builds a tree's bundles into its own dist/ with its own build script. */
export function buildTree(dir: string): void {
  execFileSync(process.execPath, [join(dir, "scripts", "build.mjs")], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
}

/**
 * The tree of `sha`, built; reused from an earlier run when already built. Exported and built in a
 * directory of this process, then renamed into place: processes asking for the same commit at once
 * (parallel test files) never build into each other's tree, and the first rename wins.
 */
export function checkoutCommit(repo: string, sha: string): string {
  const dir = join(tmpdir(), `twist-plan-${sha}`);
  if (existsSync(join(dir, BUILT))) return dir;
  const building = `${dir}.${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  try {
    const archive = execFileSync("git", ["archive", "--format=tar", sha], { cwd: repo, maxBuffer: 1 << 30 });
    execFileSync("tar", ["-x", "-C", building], { input: archive });
    sharePackages(repo, building);
    buildTree(building);
    writeFileSync(join(building, BUILT), `${sha}\n`);
    try {
      renameSync(building, dir);
    } catch {
      if (existsSync(join(dir, BUILT))) return dir; // another process renamed its tree in first
      rmSync(dir, { recursive: true, force: true }); // a tree without the marker: left by an older version
      renameSync(building, dir);
    }
    return dir;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}
