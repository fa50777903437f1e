// Throwaway datastores for outage tests: a redis-server and a PostgreSQL cluster (initdb into a temp
// folder) on their own free ports, which a test may stop, kill and restart. The machine's own
// PostgreSQL and Redis are never touched.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import Redis from "ioredis";
import { freePort } from "./ports";

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms`);
}

export interface ThrowawayRedis {
  port: number;
  url: string;
  /** Starts redis-server on the port (empty: no persistence); resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGKILL: everything in it is gone, as when a container without a volume restarts. */
  kill(): Promise<void>;
}

export async function throwawayRedis(port?: number): Promise<ThrowawayRedis> {
  const p = port ?? (await freePort());
  const url = `redis://127.0.0.1:${p}`;
  let child: ChildProcess | undefined;
  const kill = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  };
  process.once("exit", () => child?.kill("SIGKILL"));
  return {
    port: p,
    url,
    start: async () => {
      child = spawn("redis-server", ["--port", String(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
      await until(`redis-server on ${p}`, async () => {
        const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        redis.on("error", () => {});
        try {
          await redis.connect();
          return (await redis.ping()) === "PONG";
        } finally {
          redis.disconnect();
        }
      });
    },
    kill,
  };
}

export interface ThrowawayPostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  start(): Promise<void>;
  /** pg_ctl stop -m immediate: the server goes away at once, as in a crash. */
  stop(): Promise<void>;
  /** Stops the server and deletes its folder. */
  destroy(): Promise<void>;
}

function postgresBin(name: string): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, "bin", name))) return join(root, v, "bin", name);
  return name;
}

function run(bin: string, args: string[], asUser: boolean): void {
  // initdb and postgres refuse to run as root: run them as the postgres system user then.
  const root = process.getuid?.() === 0;
  const [cmd, argv] = root && asUser ? ["runuser", ["-u", "postgres", "--", postgresBin(bin), ...args]] : [postgresBin(bin), args];
  const result = spawnSync(cmd, argv, { encoding: "utf8", timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${bin} ${args.join(" ")} failed (${result.status}): ${result.stderr || result.stdout}`);
}

export async function throwawayPostgres(): Promise<ThrowawayPostgres> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "twist-throwaway-pg-"));
  const data = join(dir, "data");
  if (process.getuid?.() === 0) spawnSync("chown", ["postgres", dir]);
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], true);
  const ctl = (...args: string[]) => run("pg_ctl", ["-D", data, "-s", ...args], true);
  const url = (database = "postgres") => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let running = false;
  const stop = async () => {
    if (!running) return;
    ctl("stop", "-m", "immediate");
    running = false;
  };
  process.once("exit", () => {
    if (running) spawnSync("runuser", ["-u", "postgres", "--", postgresBin("pg_ctl"), "-D", data, "-s", "stop", "-m", "immediate"]);
  });
  return {
    port,
    url,
    start: async () => {
      ctl("start", "-w", "-l", join(dir, "log"), "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`);
      running = true;
      await until(`PostgreSQL on ${port}`, async () => {
        const client = new Client({ connectionString: url() });
        await client.connect();
        await client.end();
        return true;
      });
    },
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
