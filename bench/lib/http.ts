// The load generators' HTTP client: node:http on keep-alive connections. The load generator shares
// this machine's two cores with the system under test, and fetch (undici) cost 0.8-1.4 ms of CPU
// per request here against 0.15-0.17 ms for node:http, enough to take a tenth of a core from the
// server at a few hundred requests per second (bench/ledger, bench/auth, bench/pipeline).
import { Agent, request } from "node:http";

export interface HttpResponse {
  status: number;
  text: string;
}

/**
 * One connection per concurrent request, kept open between them (as pgbench keeps its clients').
 * An idle connection is closed after a second, before a server's own keep-alive timeout closes it
 * under a request on its way.
 */
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, timeout: 1000 });

/** Sends `body` (if any) and resolves with the whole response once it has ended. */
export async function send(url: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<HttpResponse> {
  try {
    return await attempt(url, init);
  } catch (err) {
    // The server closed a kept-alive connection as this request went out on it: the request was
    // never read, so it is sent again once, on a new connection (Node's documented retry).
    if ((err as { reusedSocket?: boolean; code?: string }).reusedSocket && (err as { code?: string }).code === "ECONNRESET") return attempt(url, init);
    throw err;
  }
}

function attempt(url: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const headers = init.body === undefined ? init.headers : { ...init.headers, "content-length": String(Buffer.byteLength(init.body)) };
    const req = request(url, { method: init.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    req.end(init.body);
  });
}
