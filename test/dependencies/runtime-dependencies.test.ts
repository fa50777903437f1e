// What each workspace declares as a runtime dependency is what its shipped code imports, so
// `npm audit --omit=dev` (CI) audits exactly what runs: test tools, type packages and local
// simulators are devDependencies. And the production tree stays free of the one advisory CI
// caught (bigint-buffer, via @solana/spl-token), which the audit endpoint cannot check from here.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "..", "..");

/** Packages loaded by name at run time rather than imported (sequelize requires pg-hstore itself). */
const LOADED_BY_NAME = new Set(["pg-hstore"]);

/** Shipped code of a workspace: src/ for the runtimes, the whole workspace for infra and policy. */
const WORKSPACES: Record<string, string[]> = {
  "runtime/shared": ["src"],
  "runtime/service": ["src"],
  "runtime/auth": ["src"],
  "runtime/influencer": ["src"],
  "runtime/edge": ["src", "bindings.ts"],
  infra: ["components", "offline", "config.ts", "index.ts", "naming.ts"],
  policy: ["index.ts", "rules.ts", "offline.ts", "lib", "policies"],
};

function sources(path: string): string[] {
  const full = join(ROOT, path);
  if (full.endsWith(".ts")) return [full];
  return readdirSync(full, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(path, e.name)) : e.name.endsWith(".ts") ? [join(full, e.name)] : []));
}

function importedPackages(files: string[]): Set<string> {
  const found = new Set<string>();
  for (const file of files) {
    for (const m of readFileSync(file, "utf8").matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*|import\s+)["']([^"'.][^"']*)["']/g)) {
      const spec = m[1]!;
      if (spec.startsWith("node:") || spec.startsWith("cloudflare:") || builtinModules.includes(spec)) continue;
      found.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
    }
  }
  return found;
}

describe("runtime dependencies", () => {
  for (const [workspace, paths] of Object.entries(WORKSPACES)) {
    it(`${workspace}: every runtime dependency is imported by its shipped code, and every import is declared`, () => {
      const pkg = JSON.parse(readFileSync(join(ROOT, workspace, "package.json"), "utf8")) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
      const declared = Object.keys(pkg.dependencies ?? {});
      const imported = importedPackages(paths.flatMap((p) => sources(join(workspace, p))));
      expect(
        declared.filter((d) => !imported.has(d) && !LOADED_BY_NAME.has(d)),
        "declared but never imported at run time",
      ).to.deep.equal([]);
      const builtinOrDev = new Set([...Object.keys(pkg.devDependencies ?? {}), "@cloudflare/workers-types"]);
      expect([...imported].filter((i) => !declared.includes(i) && !builtinOrDev.has(i)).sort(), "imported but not declared").to.deep.equal([]);
    });
  }

  it("the production dependency tree has no bigint-buffer (high-severity advisory)", () => {
    const tree = execFileSync("npm", ["ls", "bigint-buffer", "--omit=dev", "--all", "--parseable"], { cwd: ROOT, encoding: "utf8" }).trim();
    expect(tree.split("\n").filter((line) => line.includes("bigint-buffer"))).to.deep.equal([]);
  });
});
