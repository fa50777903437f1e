// Events test harness: the influencer app listening on a real port with its events gateway attached
// (several instances may share one harness's database and Redis), and a WebSocket client that
// records every frame, control message and the close.
import WebSocket from "ws";
import { listen, type Running } from "@twist/service";
import { BEARER_SUBPROTOCOL_PREFIX, EVENTS_SUBPROTOCOL, type ControlFrame, type EventFrame } from "@twist/shared/events";
import { createLogger } from "@twist/shared/logger";
import { createApp, type InfluencerApp } from "../src/app";
import { loadInfluencerConfig } from "../src/config";
import { baseEnv, type Harness } from "./harness";

export interface Instance {
  service: InfluencerApp;
  running: Running;
  url: string;
  close(): Promise<void>;
}

/** The harness's own app, listening, with events attached. */
export async function listenHarness(h: Harness): Promise<Instance> {
  return attach(h.service, false);
}

/** Another instance of the API on the same database and Redis (as a second replica would be). */
export async function startInstance(h: Harness, env: Record<string, string> = {}): Promise<Instance> {
  const config = loadInfluencerConfig(baseEnv(h.db, h.prefix, env));
  const service = createApp(config, { logger: createLogger("influencer-test", { level: "silent" }) });
  const { redis } = service.context;
  if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
  return attach(service, true);
}

async function attach(service: InfluencerApp, ownsService: boolean): Promise<Instance> {
  await service.events.start();
  const running = await listen(service.app, 0, "127.0.0.1", (server) => service.events.attach(server));
  return {
    service,
    running,
    url: `ws://127.0.0.1:${running.port}/api/v1/events`,
    close: async () => {
      await service.events.close();
      running.server.closeAllConnections();
      await running.close();
      if (ownsService) await service.close();
    },
  };
}

export interface Client {
  ws: WebSocket;
  events: EventFrame[];
  controls: ControlFrame[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves when `n` events arrived (rejects after timeoutMs). */
  waitEvents(n: number, timeoutMs?: number): Promise<EventFrame[]>;
  waitControl(control: ControlFrame["control"], timeoutMs?: number): Promise<ControlFrame>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** "protocol" (default): bearer.<token> in Sec-WebSocket-Protocol; "message": first message. */
  via?: "protocol" | "message";
  lastEventId?: string;
  origin?: string;
  autoPong?: boolean;
  query?: string;
}

/** Opens a socket; resolves once it is open (not yet authenticated: wait for the "ready" control). */
export async function connect(url: string, token: string | null, options: ConnectOptions = {}): Promise<Client> {
  const via = options.via ?? "protocol";
  const protocols = via === "protocol" && token ? [EVENTS_SUBPROTOCOL, `${BEARER_SUBPROTOCOL_PREFIX}${token}`] : [EVENTS_SUBPROTOCOL];
  const target = `${url}${options.lastEventId !== undefined && via === "protocol" ? `?lastEventId=${options.lastEventId}` : ""}${options.query ?? ""}`;
  const ws = new WebSocket(target, protocols, { ...(options.origin ? { origin: options.origin } : {}), autoPong: options.autoPong ?? true });
  const events: EventFrame[] = [];
  const controls: ControlFrame[] = [];
  const waiters = new Set<() => void>();
  ws.on("message", (data) => {
    const frame = JSON.parse(String(data)) as EventFrame | ControlFrame;
    if ("control" in frame) controls.push(frame);
    else events.push(frame);
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: String(reason) })));
  ws.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body: JSON.parse(body || "null"), headers: res.headers })));
    });
    ws.once("error", reject);
  });
  if (via === "message" && token) ws.send(JSON.stringify({ type: "auth", token, ...(options.lastEventId !== undefined ? { lastEventId: options.lastEventId } : {}) }));
  const until = <T>(check: () => T | undefined, timeoutMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const run = () => {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        waiters.delete(run);
        resolve(value);
      };
      const timer = setTimeout(() => {
        waiters.delete(run);
        reject(new Error(`timed out waiting for ${what}; events ${JSON.stringify(events.map((e) => `${e.type}#${e.id}`))}`));
      }, timeoutMs);
      waiters.add(run);
      run();
    });
  return {
    ws,
    events,
    controls,
    closed,
    waitEvents: (n, timeoutMs = 3000) => until(() => (events.length >= n ? events.slice(0, n) : undefined), timeoutMs, `${n} events`),
    waitControl: (control, timeoutMs = 3000) => until(() => controls.find((c) => c.control === control), timeoutMs, `control ${control}`),
    close: async () => {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close(1000);
      await closed;
    },
  };
}

/** The HTTP refusal of an upgrade: status, envelope body, headers. */
export async function refusal(url: string, token: string | null, options: ConnectOptions = {}): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  try {
    const c = await connect(url, token, options);
    await c.close();
  } catch (err) {
    const e = err as { status?: number; body?: unknown; headers?: Record<string, unknown> };
    if (e.status) return { status: e.status, body: e.body, headers: e.headers ?? {} };
    throw err;
  }
  throw new Error("the upgrade was accepted");
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
