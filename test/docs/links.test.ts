import { expect } from "chai";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

// The documentation stays true to the repository: every relative Markdown link in README.md and
// docs/**/*.md points at a file that exists (and, for `file.md#anchor`, at a heading that exists),
// and every `npm run <script>` they mention is a script of the root package.json, or of the
// workspace named with `-w <workspace>`.

const ROOT = resolve(__dirname, "..", "..");

interface Found {
  file: string;
  line: number;
  text: string;
}

function markdownFiles(): string[] {
  const out = ["README.md"];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith(".md")) out.push(path);
    }
  };
  walk("docs");
  return out.sort();
}

/** Markdown with fenced code blocks and inline code spans blanked out (line numbers kept). */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line.replace(/`[^`]*`/g, "");
  });
}

/** Inline links and images `[text](target)` outside code; returns the raw targets. */
function markdownLinks(file: string, markdown: string): Found[] {
  const found: Found[] = [];
  prose(markdown).forEach((line, i) => {
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) found.push({ file, line: i + 1, text: m[1]! });
  });
  return found;
}

/** GitHub's heading anchors of a Markdown file. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const h = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = h[1]!
      .replace(/`/g, "")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Problems with the relative links of one Markdown file (`file` relative to `root`). */
function brokenLinks(root: string, file: string, markdown: string): string[] {
  const problems: string[] = [];
  for (const link of markdownLinks(file, markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link.text)) continue; // https:, mailto:, ...
    const [path, anchor] = link.text.split("#", 2) as [string, string | undefined];
    const where = `${link.file}:${link.line}: (${link.text})`;
    if (path.startsWith("/")) {
      problems.push(`${where} is absolute; use a path relative to the file`);
      continue;
    }
    const target = path === "" ? join(root, file) : resolve(root, dirname(file), decodeURIComponent(path));
    if (!existsSync(target)) {
      problems.push(`${where} -> ${relative(root, target)} does not exist`);
      continue;
    }
    if (anchor && target.endsWith(".md") && !anchors(readFileSync(target, "utf8")).has(anchor)) {
      problems.push(`${where} -> no heading #${anchor} in ${relative(root, target)}`);
    }
  }
  return problems;
}

interface NpmRun {
  file: string;
  line: number;
  script: string;
  workspace?: string;
}

/**
 * Every `npm run <script>` (and `npm start` / `npm test` with a workspace flag) in the text, code
 * blocks included; `-w`/`--workspace` before the script's own `--` names the workspace.
 */
function npmRuns(file: string, markdown: string): NpmRun[] {
  const runs: NpmRun[] = [];
  markdown.split("\n").forEach((line, i) => {
    // Drop a shell comment, then one shell command at a time: cut at separators that end it.
    for (const command of line.replace(/\s#\s.*$/, "").split(/&&|\|\||;|\||`/)) {
      const words = command
        .replace(/\$\(|[()]/g, " ")
        .trim()
        .split(/\s+/);
      for (let w = 0; w < words.length; w++) {
        if (words[w] !== "npm") continue;
        let k = w + 1;
        let workspace: string | undefined;
        const takeWorkspace = () => {
          const flag = words[k]!;
          if (flag === "-w" || flag === "--workspace") {
            workspace = words[k + 1];
            k += 2;
            return true;
          }
          if (flag.startsWith("--workspace=")) {
            workspace = flag.slice("--workspace=".length);
            k += 1;
            return true;
          }
          return false;
        };
        while (k < words.length && words[k]!.startsWith("-")) if (!takeWorkspace()) k++;
        const verb = words[k];
        let script: string | undefined;
        if (verb === "run" || verb === "run-script") {
          k++;
          while (k < words.length && words[k]!.startsWith("-") && words[k] !== "--") if (!takeWorkspace()) k++;
          script = words[k];
          k++;
        } else if (verb === "start" || verb === "test") {
          script = verb;
          k++;
        }
        if (!script || !/^[A-Za-z0-9:_-]+$/.test(script)) continue;
        while (k < words.length && words[k] !== "--") if (!takeWorkspace()) k++;
        // `npm start` / `npm test` are only checked when they name a workspace.
        if (verb === "start" || verb === "test") {
          if (workspace) runs.push({ file, line: i + 1, script, workspace });
        } else runs.push({ file, line: i + 1, script, ...(workspace ? { workspace } : {}) });
      }
    }
  });
  return runs;
}

interface PackageJson {
  name?: string;
  scripts?: Record<string, string>;
  workspaces?: string[];
}

const readPackage = (dir: string): PackageJson => JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as PackageJson;

/** Scripts of the root package and of each workspace, keyed by workspace path and by package name. */
function scriptTable(): { root: Set<string>; workspaces: Map<string, Set<string>> } {
  const root = readPackage(".");
  const workspaces = new Map<string, Set<string>>();
  for (const dir of root.workspaces ?? []) {
    const pkg = readPackage(dir);
    const scripts = new Set(Object.keys(pkg.scripts ?? {}));
    workspaces.set(dir, scripts);
    if (pkg.name) workspaces.set(pkg.name, scripts);
  }
  return { root: new Set(Object.keys(root.scripts ?? {})), workspaces };
}

function unknownScripts(runs: NpmRun[], table = scriptTable()): string[] {
  return runs.flatMap((r) => {
    const where = `${r.file}:${r.line}: npm run ${r.script}`;
    if (r.workspace === undefined) return table.root.has(r.script) ? [] : [`${where}: no such script in package.json`];
    const scripts = table.workspaces.get(r.workspace.replace(/\/+$/, ""));
    if (!scripts) return [`${where} -w ${r.workspace}: no such workspace`];
    return scripts.has(r.script) ? [] : [`${where} -w ${r.workspace}: no such script in that workspace`];
  });
}

describe("documentation", () => {
  const files = markdownFiles();

  describe("the checks themselves", () => {
    it("finds a broken relative link and a missing anchor, and ignores links inside code", () => {
      const md = [
        "[ok](docs/deploy.md) [gone](docs/no-such-file.md) [web](https://example.com/x.md)",
        "[anchor](docs/key-rotation.md#no-such-heading) [good anchor](docs/key-rotation.md#other-secrets)",
        "`[in code](nowhere.md)`",
        "```",
        "[in a block](nowhere-either.md)",
        "```",
      ].join("\n");
      const problems = brokenLinks(ROOT, "README.md", md);
      expect(problems).to.have.length(2);
      expect(problems[0]).to.include("docs/no-such-file.md does not exist");
      expect(problems[1]).to.include("no heading #no-such-heading");
    });

    it("reads npm run commands with flags and workspaces, and reports unknown scripts", () => {
      const md = [
        "npm ci && npm run build",
        "`npm run -s rollback -- --file h.json` and npm run no-such-script",
        "npm run migrate -w runtime/influencer      # comment npm run ignored-after-hash",
        "npm start -w runtime/influencer",
        "npm run migrate",
        "npm run start -w runtime/nowhere",
        'commit=$(npm run -s rollback -- --file "$f")',
      ].join("\n");
      const runs = npmRuns("x.md", md);
      expect(runs.map((r) => `${r.script}${r.workspace ? `@${r.workspace}` : ""}`)).to.deep.equal([
        "build",
        "rollback",
        "no-such-script",
        "migrate@runtime/influencer",
        "start@runtime/influencer",
        "migrate",
        "start@runtime/nowhere",
        "rollback",
      ]);
      const problems = unknownScripts(runs);
      expect(problems).to.have.length(3);
      expect(problems[0]).to.match(/no-such-script: no such script in package\.json/);
      expect(problems[1]).to.match(/x\.md:5: npm run migrate: no such script in package\.json/);
      expect(problems[2]).to.match(/runtime\/nowhere: no such workspace/);
    });
  });

  it("covers README.md and every Markdown file under docs/", () => {
    expect(files).to.include("README.md");
    expect(files.filter((f) => f.startsWith("docs/runbooks/")).length).to.be.greaterThan(0);
  });

  it("every relative link resolves to an existing file (and heading)", () => {
    const problems = files.flatMap((f) => brokenLinks(ROOT, f, readFileSync(join(ROOT, f), "utf8")));
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("every `npm run <script>` names a script of package.json (or of the -w workspace)", () => {
    const runs = files.flatMap((f) => npmRuns(f, readFileSync(join(ROOT, f), "utf8")));
    expect(runs.length).to.be.greaterThan(10);
    const problems = unknownScripts(runs);
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });
});
