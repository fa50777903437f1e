// README.md's "Layout" section is the newcomer's map, so it stays the tree: every folder it names
// exists, every file or folder path in a row's description resolves (from that row's folder or
// the repository root), and nothing of the tree it promises to list is missing: every tracked
// top-level folder and runtime package has a row, every feature folder of runtime/influencer/src,
// every component file (and component class) of infra/components, every test/ subject and every
// benchmark is named.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";

const ROOT = join(__dirname, "..", "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");

interface Row {
  /** The left column when it is a folder ("infra/components/"); "" for the Pulumi files' row. */
  folder: string;
  description: string;
}

/** The rows of the Layout section's code block: a row starts at column 0, its description runs on. */
function layoutRows(markdown: string): Row[] {
  const section = markdown.split(/^## Layout$/m)[1]?.split(/^## /m)[0];
  const block = section?.split(/^```$/m)[1];
  if (!block) throw new Error('README.md has no "## Layout" section with a code block');
  const rows: Row[] = [];
  for (const line of block.split("\n").filter((l) => l.trim())) {
    if (/^\s/.test(line)) {
      rows[rows.length - 1]!.description += ` ${line.trim()}`;
      continue;
    }
    const [left, ...rest] = line.split(/\s{2,}/);
    rows.push({ folder: left!.endsWith("/") ? left! : "", description: rest.join(" ") });
  }
  return rows;
}

const dirs = (path: string) =>
  readdirSync(join(ROOT, path), { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== "node_modules")
    .map((d) => d.name);
const files = (path: string) =>
  readdirSync(join(ROOT, path), { withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => d.name);
const names = (text: string, name: string) => new RegExp(`(^|[^\\w.-])${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([^\\w-]|$)`).test(text);
const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();

/** Everything wrong with a Layout section against the working tree; empty when it matches. */
function layoutProblems(markdown: string): string[] {
  const rows = layoutRows(markdown);
  const problems: string[] = [];
  const row = (folder: string) => rows.find((r) => r.folder === folder);

  for (const { folder, description } of rows) {
    if (folder && !isDir(join(ROOT, folder))) problems.push(`row ${folder}: no such folder`);
    // Paths in the description: a folder (ends in "/") or a file (has an extension); placeholders skipped.
    for (const raw of description.split(/[\s(),;]+/)) {
      const token = raw.replace(/[:.]$/, "");
      if (!token || token.includes("<") || !(/\/$/.test(token) || /\.(ts|mjs|cjs|json|jsonc|ya?ml|md|sh|toml)$/.test(token))) continue;
      if (!existsSync(join(ROOT, folder, token)) && !existsSync(join(ROOT, token))) problems.push(`row ${folder || "(root)"}: ${token} does not exist`);
    }
  }

  const tracked = spawnSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\n");
  const topLevel = [...new Set(tracked.filter((p) => p.includes("/")).map((p) => p.split("/")[0]!))];
  for (const top of topLevel) if (!rows.some((r) => r.folder.split("/")[0] === top)) problems.push(`top-level folder ${top}/ has no row`);
  for (const pkg of dirs("runtime")) if (!row(`runtime/${pkg}/`)) problems.push(`runtime/${pkg}/ has no row`);

  const checkNamed = (folder: string, expected: string[], what: string) => {
    const r = row(folder);
    if (!r) return problems.push(`${folder} has no row`);
    for (const name of expected) if (!names(r.description, name)) problems.push(`${folder} row does not name ${what} ${name}`);
  };
  checkNamed("runtime/influencer/", dirs("runtime/influencer/src"), "feature folder");
  const components = files("infra/components").filter((f) => f.endsWith(".ts"));
  const classes = components.flatMap((f) =>
    [...readFileSync(join(ROOT, "infra/components", f), "utf8").matchAll(/^export class (\w+) extends pulumi\.ComponentResource/gm)].map((m) => m[1]!),
  );
  checkNamed("infra/components/", [...components, ...classes], "component");
  checkNamed("test/", dirs("test"), "subject");
  checkNamed("bench/", dirs("bench"), "benchmark folder");
  return problems;
}

describe("README.md Layout section", () => {
  it("matches the tree: its folders and paths exist, and no feature, component, test subject or benchmark is left out", () => {
    expect(layoutProblems(README)).to.deep.equal([]);
  });

  it("reads every row, continuation lines included", () => {
    const rows = layoutRows(README);
    expect(rows.map((r) => r.folder)).to.include.members(["infra/", "infra/components/", "runtime/influencer/", "test/", ".github/"]);
    expect(rows.find((r) => r.folder === "runtime/influencer/")!.description).to.match(/identity.*settlement.*harness/);
  });

  it("reports a missing feature, an unnamed component, a folder that does not exist and a dangling path", () => {
    const drifted = README.replace("mail (SMTP or log", "post (SMTP or log")
      .replace("zone-security.ts (ZoneSecurity)", "zones.ts")
      .replace("runtime/auth/          wallet", "runtime/login/         wallet")
      .replace("grafana/ (dashboards)", "grafana/dashboards.json");
    expect(layoutProblems(drifted)).to.have.members([
      "runtime/influencer/ row does not name feature folder mail",
      "row infra/components/: zones.ts does not exist",
      "infra/components/ row does not name component zone-security.ts",
      "infra/components/ row does not name component ZoneSecurity",
      "row runtime/login/: no such folder",
      "runtime/auth/ has no row",
      "row ops/: grafana/dashboards.json does not exist",
    ]);
  });
});
