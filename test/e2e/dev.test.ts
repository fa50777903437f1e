// `npm run dev` (scripts/dev.ts) on a copy of the tree: the platform runs, an edit to one service's
// source rebuilds its bundle and restarts that service, which then answers with the change, and
// SIGTERM stops the launcher and every process it started (none left behind).
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ROOT } from "../support/bundle";
import { createTestDatabase, type TestDatabase } from "../support/postgres";
import { deleteRedisPrefix, testRedisPrefix } from "../support/redis";
import { launch } from "./launcher";

/**
 * The repository's files (as in the work tree) in `dir`, with its installed packages linked in. The
 * workspace packages (@twist/*) resolve through that link to this tree; the service edited below is
 * the copy's own entry and sources.
 */
function copyTree(dir: string): void {
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file));
  }
  for (const modules of ["node_modules", "runtime/influencer/node_modules"]) {
    if (existsSync(join(ROOT, modules))) symlinkSync(join(ROOT, modules), join(dir, modules));
  }
}

/** Every live process below `pid` (from /proc), so the test can tell that none outlives the launcher. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");
  } catch {
    return false;
  }
};

async function until(what: string, check: () => boolean | Promise<boolean>, deadlineMs: number, out: () => string): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen within ${deadlineMs} ms; output:\n${out().slice(-4000)}`);
}

describe("npm run dev", function () {
  // Generous bounds: on a loaded machine the build and start-up take minutes; the test waits for
  // conditions (the launcher's output, answers), and these limits only stop a hung run.
  this.timeout(900_000);
  let db: TestDatabase;
  let dir: string;
  const prefix = testRedisPrefix("dev");
  before(async () => {
    db = await createTestDatabase("dev");
    dir = mkdtempSync(join(tmpdir(), "twist-dev-"));
    copyTree(dir);
  });
  after(async () => {
    await db?.drop();
    await deleteRedisPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it("restarts the service whose source changed, which answers with the change; SIGTERM stops everything", async () => {
    const { child: launcher, ports, output, exited } = await launch("scripts/dev.ts", { cwd: dir, databaseUrl: db.url, redisPrefix: prefix, edgeStateDir: join(dir, ".local", "edge") });
    try {
      await until("the platform started", () => output().includes("Ctrl-C stops everything.") || launcher.exitCode !== null, 600_000, output);
      expect(output(), output()).to.include("Ctrl-C stops everything.");
      const auth = `http://127.0.0.1:${ports.AUTH_PORT}`;
      expect((await fetch(`${auth}/dev-probe`)).status).to.equal(404);

      // An edit to the auth service's own source: a new route.
      const app = join(dir, "runtime", "auth", "src", "app.ts");
      const source = readFileSync(app, "utf8");
      const anchor = '      a.get("/auth/me",';
      expect(source).to.include(anchor);
      writeFileSync(app, source.replace(anchor, `      a.get("/dev-probe", (_req, res) => {\n        res.json({ edited: true });\n      });\n${anchor}`));

      await until("auth restarted", () => output().includes("auth restarted."), 300_000, output);
      const probe = await fetch(`${auth}/dev-probe`);
      expect(probe.status, output().slice(-2000)).to.equal(200);
      expect(await probe.json()).to.deep.equal({ edited: true });
      expect(output()).to.include("auth rebuilt; restarting it ...");
      // Only the bundle the edit belongs to was rebuilt and restarted; the others kept running.
      expect(output()).not.to.match(/(edge|influencer) rebuilt/);
      expect((await fetch(`http://127.0.0.1:${ports.INFLUENCER_PORT}/ready`)).status).to.equal(200);
      expect((await fetch(`http://127.0.0.1:${ports.EDGE_PORT}/health`)).status).to.equal(200);
    } finally {
      const started = descendants(launcher.pid!);
      launcher.kill("SIGTERM");
      const [code] = await exited;
      expect(code, output().slice(-3000)).to.equal(0);
      expect(output()).to.match(/stopping \.\.\.\n[\s\S]*stopped\.\n/);
      expect(started.length, "processes the launcher ran").to.be.greaterThan(3);
      await until(
        "every process the launcher started exited",
        () => started.every((pid) => !alive(pid)),
        30_000,
        () => `still alive: ${started.filter(alive).join(", ")}\n${output()}`,
      );
    }
    for (const port of Object.values(ports)) {
      const reached = await fetch(`http://127.0.0.1:${port}/health`).then(
        () => true,
        () => false,
      );
      expect(reached, `port ${port} still answers after npm run dev stopped`).to.equal(false);
    }
  });
});
