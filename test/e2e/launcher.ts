// A platform launcher (scripts/start.ts or scripts/dev.ts) run as a child on free ports, the test's
// own database, Redis prefix and edge state folder, with everything it prints collected.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { platformPorts } from "../support/ports";
import { TEST_REDIS_URL } from "../support/redis";

export interface Launched {
  child: ChildProcess;
  ports: Awaited<ReturnType<typeof platformPorts>>;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  exited: Promise<[number | null]>;
}

export async function launch(script: string, options: { cwd: string; databaseUrl: string; redisPrefix: string; edgeStateDir: string }): Promise<Launched> {
  const ports = await platformPorts();
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: options.cwd,
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: options.redisPrefix,
      EDGE_STATE_DIR: options.edgeStateDir,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => {
    out += d;
  });
  child.stderr!.on("data", (d) => {
    out += d;
  });
  return { child, ports, output: () => out, exited: once(child, "exit") as Promise<[number | null]> };
}
