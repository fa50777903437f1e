// Helpers for the edge tests: keys, wallets, signed requests against a running Worker, and a
// node:http server playing the backend (the real backend is another process, out of reach here).
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import bs58 from "bs58";
import nacl from "tweetnacl";
import { signIdentityToken } from "@twist/shared/jwt";
import { parseJwtKeySet } from "@twist/shared/keys";
import { signedHeaders, verifySignedRequest } from "@twist/shared/signed-request";
import type { RewardDeliveryResult } from "@twist/shared/messages";
import type { RunningEdge } from "../local/miniflare";
import { WORKER } from "../bindings";

export const JWT_KEYS = "edge-test:jwt-secret-0123456789abcdef";
export const VAU_KEY = "vau-signing-key-0123456789abcdef";
export const SERVICE_KEY = "service-signing-key-0123456789abcdef";
export const JWT_KEY_SET = parseJwtKeySet(JWT_KEYS);

export const TEST_SECRETS = { JWT_KEYS, VAU_SIGNING_KEYS: VAU_KEY, SERVICE_SIGNING_KEYS: SERVICE_KEY };

export function newWallet(): string {
  return bs58.encode(nacl.sign.keyPair().publicKey);
}

export async function tokenFor(wallet: string): Promise<string> {
  return (await signIdentityToken(wallet, JWT_KEY_SET)).token;
}

let seq = 0;
/** A fresh, valid VAU body; every call differs (unique deviceId), so vauIds never collide by accident. */
export function vauBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  seq += 1;
  return { deviceId: `device-${process.pid}-${seq}`, siteId: "news.example.com", timestamp: Date.now() - 1000, activeMs: 60_000, ...overrides };
}

export interface SendOptions {
  token?: string | null;
  /** Raw body text; default JSON of `body`. */
  raw?: string;
  /** Key the request is signed with; null sends no signature headers. */
  key?: string | null;
  /** Signature timestamp (ms). */
  signedAt?: number;
  /** Body used for the signature when it must differ from the one sent. */
  signedBody?: string;
  /** Path used for the signature when it must differ from the one requested. */
  signedPath?: string;
  /** Receives the X-Signature value sent. */
  capture?: string[];
  headers?: Record<string, string>;
  path?: string;
  method?: string;
}

/** Sends a signed, authenticated request to the Worker. */
export async function send(edge: RunningEdge, body: unknown, options: SendOptions = {}): Promise<Response> {
  const path = options.path ?? "/api/v1/vau";
  const method = options.method ?? "POST";
  const raw = options.raw ?? JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? (await tokenFor(newWallet()))}`;
  if (options.key !== null) {
    const signed = await signedHeaders(method, options.signedPath ?? path, options.signedBody ?? raw, options.key ?? VAU_KEY, options.signedAt);
    options.capture?.push(signed["X-Signature"]);
    Object.assign(headers, signed);
  }
  return fetch(new URL(path, edge.url), { method, headers: { ...headers, ...options.headers }, body: raw });
}

export async function errorOf(res: Response): Promise<{ code: string; message: string; requestId: string; details?: any }> {
  const body = (await res.json()) as { error: { code: string; message: string; requestId: string; details?: unknown } };
  return body.error;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Delivery {
  /** HTTP status the double answered with. */
  status: number;
  signatureOk: boolean;
  signatureReason?: string;
  messages: Record<string, unknown>[];
}

/**
 * Plays the backend's POST /internal/v1/rewards: checks the contract-3 signature with the service key,
 * records every delivery, and answers per message with what `decide` returns (default credited).
 * POST /dlq records what the dead-letter observer forwards.
 */
export class BackendDouble {
  readonly deliveries: Delivery[] = [];
  readonly deadLetters: Record<string, unknown>[] = [];
  /** Answer the whole request with this HTTP status instead (one time per entry). */
  readonly failWholeRequests: number[] = [];
  decide: (message: Record<string, unknown>, seenBefore: number) => RewardDeliveryResult["status"] = () => "credited";
  private server!: Server;
  url!: string;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, body }) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** How many deliveries included the message with this id. */
  timesDelivered(id: string): number {
    return this.deliveries.reduce((n, d) => n + d.messages.filter((m) => m.id === id).length, 0);
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    if (req.url === "/dlq") {
      this.deadLetters.push(JSON.parse(raw.toString("utf8")));
      return { status: 200, body: {} };
    }
    const check = await verifySignedRequest(
      { method: req.method!, target: req.url!, body: new Uint8Array(raw), timestamp: header(req, "x-timestamp"), signature: header(req, "x-signature") },
      [SERVICE_KEY],
    );
    const { messages } = JSON.parse(raw.toString("utf8")) as { messages: Record<string, unknown>[] };
    const seen = new Map(messages.map((m) => [m.id, this.timesDelivered(String(m.id))]));
    const whole = check.ok ? this.failWholeRequests.shift() : undefined;
    const status = !check.ok ? 401 : (whole ?? 200);
    this.deliveries.push({ status, signatureOk: check.ok, ...(check.ok ? {} : { signatureReason: check.reason }), messages });
    if (!check.ok) return { status, body: { error: { code: "UNAUTHORIZED", message: check.message, requestId: "backend" } } };
    if (whole !== undefined) return { status, body: { error: { code: "UNAVAILABLE", message: "down", requestId: "backend" } } };
    return { status: 200, body: { results: messages.map((m) => ({ id: m.id, status: this.decide(m, seen.get(m.id) ?? 0) })) } };
  }
}

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === "string" ? v : null;
}

// The dead-letter queue's reader lives outside this repository (an operator pulls it). This observer
// Worker stands in for it so the test can see what reaches the queue: it forwards each message to
// the backend double's /dlq.
const DLQ_OBSERVER = `
export default {
  async queue(batch, env) {
    for (const m of batch.messages) {
      await fetch(env.SINK + "/dlq", { method: "POST", body: JSON.stringify(m.body) });
      m.ack();
    }
  },
};`;

/** The observer as an extra Miniflare Worker consuming the rewards dead-letter queue, forwarding to `sinkUrl`. */
export function dlqObserverWorker(sinkUrl: string) {
  return {
    name: "dlq-observer",
    modules: true,
    script: DLQ_OBSERVER,
    compatibilityDate: WORKER.compatibilityDate,
    bindings: { SINK: sinkUrl },
    queueConsumers: { "rewards-dlq": { maxBatchTimeout: 0 } },
  };
}
