// A bench's system under test as its own process: the production bundle (dist/), built first, so
// the load generator in the bench process never shares the server's event loop.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(__dirname, "..", "..");

/** Builds the bundles of `target` (scripts/build.mjs; every bundle when omitted). */
export function buildBundles(target?: string): void {
  const build = spawnSync(process.execPath, ["scripts/build.mjs", ...(target ? [target] : [])], { cwd: ROOT, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
}

/** Resolves once `url` answers 200; throws after `ms`. */
export async function waitReady(url: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const status = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never became ready`);
}
