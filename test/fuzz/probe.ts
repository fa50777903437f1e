// The fuzz tests' probe engine: a probe is one hostile request with what its answer must be; every
// answer must pass violation() (never 5xx, errors are the contract 6 envelope with a 4xx status).
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import request from "supertest";

const CONCURRENCY = 8;

/** What the answer to a probe must be besides "never 5xx, errors are envelopes". */
type Expectation = "any" | "reject" | "unauthorized";

export interface Probe {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Sent verbatim (superagent would re-encode a Buffer as JSON). */
  body?: string;
  expect: Expectation;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function send(target: Server | string, probe: Probe): Promise<Answer> {
  const agent = request(target) as unknown as Record<string, (path: string) => request.Test>;
  let req = agent[probe.method.toLowerCase()]!(probe.path);
  for (const [name, value] of Object.entries(probe.headers)) req = req.set(name, value);
  if (probe.body !== undefined) req = req.send(probe.body);
  const res = await req.buffer(true).parse((r, done) => {
    const chunks: Buffer[] = [];
    r.on("data", (c: Buffer) => chunks.push(c));
    r.on("end", () => done(null, Buffer.concat(chunks).toString("utf8")));
  });
  return { status: res.status, headers: res.headers as Answer["headers"], text: res.body as string };
}

const ENVELOPE_CODES: Record<string, number[]> = {
  VALIDATION_ERROR: [400],
  UNAUTHORIZED: [401],
  FORBIDDEN: [403],
  NOT_FOUND: [404],
  CONFLICT: [409],
  RATE_LIMITED: [429],
};

/** Returns what is wrong with the answer, or null. */
function violation(probe: Probe, answer: Answer): string | null {
  const { status } = answer;
  if (status >= 500) return `${status} ${answer.text.slice(0, 200)}`;
  if (status < 400) {
    if (probe.expect !== "any") return `${status} although the input must be refused`;
    // Per-item answers of a batch (reward deliveries, VAU batches) must not hide a server error either.
    if (/"status":\s*(?:"failed"|5\d\d)/.test(answer.text)) return `${status} with an item that failed on the server: ${answer.text.slice(0, 200)}`;
    return null;
  }
  if (probe.expect === "unauthorized" && status !== 401) return `${status} instead of 401 without credentials`;
  if (probe.method === "HEAD") return null;
  const type = String(answer.headers["content-type"] ?? "");
  if (!/^application\/json/.test(type)) return `${status} with content-type "${type}": ${answer.text.slice(0, 120)}`;
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `${status} with a body that is not JSON: ${answer.text.slice(0, 120)}`;
  }
  const top = body as { error?: Record<string, unknown> };
  if (!top || typeof top !== "object" || Object.keys(top).join() !== "error" || !top.error || typeof top.error !== "object") {
    return `${status} without the envelope: ${answer.text.slice(0, 200)}`;
  }
  const e = top.error;
  const extra = Object.keys(e).filter((k) => !["code", "message", "requestId", "details"].includes(k));
  if (typeof e.code !== "string" || typeof e.message !== "string" || typeof e.requestId !== "string" || extra.length) {
    return `${status} with a malformed envelope: ${answer.text.slice(0, 200)}`;
  }
  if (e.requestId !== answer.headers["x-request-id"]) return `envelope requestId ${String(e.requestId)} differs from X-Request-Id ${String(answer.headers["x-request-id"])}`;
  const statuses = ENVELOPE_CODES[e.code];
  if (statuses && !statuses.includes(status)) return `${e.code} with status ${status}`;
  if (/\n\s+at |node_modules|\.ts:\d+/.test(answer.text)) return `${status} leaks a stack trace: ${answer.text.slice(0, 200)}`;
  return null;
}

/**
 * The test's time bound, per probe: a route's probes number in the hundreds and a loaded machine
 * answers each slowly, so a fixed timeout for the whole route failed there. Far above what one
 * request takes even under load; a server that stops answering still fails the test.
 */
const MS_PER_PROBE = 1000;

/** Sends every probe (bounded concurrency) within a bound that grows with their number; returns the violations, one line each. */
export async function runProbes(test: Mocha.Context, target: Server | string, probes: Probe[], onRateLimited?: () => Promise<void>): Promise<string[]> {
  test.timeout(Math.max(30_000, probes.length * MS_PER_PROBE));
  const problems: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < probes.length) {
      const probe = probes[next++]!;
      let problem: string | null;
      try {
        let ans = await send(target, probe);
        // A limiter (e.g. verify-email per IP) would hide later probes behind 429: reset it and resend once.
        if (ans.status === 429 && onRateLimited) {
          const limited = violation(probe, ans);
          if (limited) problems.push(`${probe.method} ${probe.path.slice(0, 100)} [${probe.label}]: ${limited}`);
          await onRateLimited();
          ans = await send(target, probe);
        }
        problem = violation(probe, ans);
      } catch (err) {
        problem = `request failed: ${(err as Error).message}`;
      }
      if (problem) problems.push(`${probe.method} ${probe.path.slice(0, 100)} [${probe.label}]: ${problem}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return problems;
}

export function expectClean(problems: string[], probes: Probe[]): void {
  expect(probes.length, "no probes were generated").to.be.greaterThan(0);
  expect(problems, `${problems.length} of ${probes.length} probes misbehaved:\n${problems.join("\n")}`).to.deep.equal([]);
  // The services run in this process: a prototype-pollution key reaching Object.prototype shows here.
  expect(({} as Record<string, unknown>).polluted, "Object.prototype was polluted").to.equal(undefined);
}

export async function listen(app: (req: any, res: any) => void): Promise<Server> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

export async function close(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
