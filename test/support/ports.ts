import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A port the OS picked with listen(0) and then released could be handed to anyone before the
// service that was meant to bind it does (EADDRINUSE on a loaded machine): the kernel draws
// listen(0) and the local port of every outgoing connection from the same ephemeral range. So test
// ports come from below that range, where the kernel never picks one by itself, and each is
// reserved across processes (the test runs of every checkout on this machine share the range) by a
// file created exclusively, held while the process that reserved it lives.

export const RESERVATIONS = join(tmpdir(), "twist-test-ports");
export const LOWEST = 20_000;

/** The first port of the kernel's ephemeral range (Linux; 49152, the IANA range, elsewhere). */
export function ephemeralStart(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST + 1000 ? low : 49_152;
  } catch {
    return 49_152;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function create(file: string): boolean {
  try {
    const fd = openSync(file, "wx");
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

/** Reserves `port` for this process; a reservation whose process has ended is taken over. */
export function reservePort(port: number): boolean {
  const file = join(RESERVATIONS, String(port));
  if (create(file)) return true;
  let owner: number;
  try {
    owner = Number(readFileSync(file, "utf8"));
  } catch {
    return false;
  }
  if (owner === process.pid || (owner > 0 && alive(owner))) return false;
  // Renaming is atomic: of several processes taking over one stale reservation, one wins.
  const stale = `${file}.${process.pid}.stale`;
  try {
    renameSync(file, stale);
  } catch {
    return false;
  }
  rmSync(stale, { force: true });
  return create(file);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 reserved for this process and free now; nothing but its caller takes it. */
export async function freePort(): Promise<number> {
  mkdirSync(RESERVATIONS, { recursive: true });
  const span = ephemeralStart() - LOWEST;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * span);
    if (!reservePort(port)) continue;
    if (await bindable(port)) return port;
    // Something outside the tests listens there: leave it reserved, so no one tries it again now.
  }
  throw new Error(`no free port found in ${LOWEST}-${LOWEST + span - 1}`);
}

/** Free ports for every listener of the local platform, by the variable `npm start` / `npm run dev` read them from. */
export async function platformPorts() {
  return {
    EDGE_PORT: await freePort(),
    AUTH_PORT: await freePort(),
    INFLUENCER_PORT: await freePort(),
    AUTH_METRICS_PORT: await freePort(),
    INFLUENCER_METRICS_PORT: await freePort(),
    SETTLEMENT_METRICS_PORT: await freePort(),
  };
}
