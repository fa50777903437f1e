// A checkout of another commit for `npm run plan -- --against <ref>`: the ref's tree exported with
// `git archive` into a temporary directory (the repository's worktrees and branches are left alone),
// this checkout's installed packages linked in, and its own bundles built there, so each side of
// the diff deploys what its own sources build.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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
 * node_modules for the exported tree: every installed package linked from this checkout, except
 * the workspace packages (@twist/*), which point at the tree's own sources.
 */
function linkPackages(repo: string, dir: string): void {
  const modules = join(dir, "node_modules");
  mkdirSync(modules, { recursive: true });
  for (const entry of readdirSync(join(repo, "node_modules"))) {
    if (entry === "@twist") continue;
    symlinkSync(join(repo, "node_modules", entry), join(modules, entry));
  }
  const ours = join(repo, "node_modules", "@twist");
  mkdirSync(join(modules, "@twist"));
  for (const pkg of readdirSync(ours)) {
    const target = execFileSync("readlink", [join(ours, pkg)], { encoding: "utf8" }).trim();
    symlinkSync(target, join(modules, "@twist", pkg));
  }
}

/** Builds a tree's bundles into its own dist/ with its own build script. */
export function buildTree(dir: string): void {
  execFileSync(process.execPath, [join(dir, "scripts", "build.mjs")], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
}

/** The tree of `sha`, built; reused from an earlier run when already built. */
export function checkoutCommit(repo: string, sha: string): string {
  const dir = join(tmpdir(), `twist-plan-${sha}`);
  if (existsSync(join(dir, BUILT))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync("git", ["archive", "--format=tar", sha], { cwd: repo, maxBuffer: 1 << 30 });
  execFileSync("tar", ["-x", "-C", dir], { input: archive });
  linkPackages(repo, dir);
  buildTree(dir);
  writeFileSync(join(dir, BUILT), `${sha}\n`);
  return dir;
}

