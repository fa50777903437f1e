// bench/lib/http: the load generators' keep-alive client, and its one retry when a server closes a
// kept-alive connection as a request goes out on it (the request was never read).
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { expect } from "chai";
import { send } from "../../bench/lib/http";

describe("bench/lib/http", () => {
  let server: Server;
  let base: string;
  /** Requests each connection has carried. */
  const served = new Map<Socket, number>();
  /** Connections whose next request is cut off before it is read. */
  const doomed = new Set<Socket>();

  before(async () => {
    server = createServer((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (doomed.has(req.socket)) {
        req.socket.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => res.end(JSON.stringify({ method: req.method, body: Buffer.concat(chunks).toString(), requestOnConnection: n })));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it("sends the body and answers status and text, reusing the connection for the next request", async () => {
    const first = await send(`${base}/a`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"x":1}' });
    expect(first.status).to.equal(200);
    expect(JSON.parse(first.text)).to.deep.equal({ method: "POST", body: '{"x":1}', requestOnConnection: 1 });
    const second = await send(`${base}/b`, { method: "GET" });
    expect(JSON.parse(second.text)).to.include({ method: "GET", requestOnConnection: 2 });
  });

  it("a kept-alive connection reset under a request: sent again once, on a new connection", async () => {
    await send(`${base}/warm`, { method: "GET" });
    for (const socket of served.keys()) doomed.add(socket);
    const res = await send(`${base}/retried`, { method: "POST", body: "once" });
    expect(JSON.parse(res.text)).to.deep.equal({ method: "POST", body: "once", requestOnConnection: 1 });
  });

  it("a reset on a new connection is the caller's error, not retried", async () => {
    let attempts = 0;
    const cut = createServer((req) => {
      attempts++;
      req.socket.destroy();
    });
    cut.listen(0, "127.0.0.1");
    await once(cut, "listening");
    try {
      const attempt = send(`http://127.0.0.1:${(cut.address() as AddressInfo).port}/`, { method: "POST", body: "x" });
      let error: unknown;
      await attempt.catch((err: unknown) => {
        error = err;
      });
      expect((error as { code?: string }).code).to.equal("ECONNRESET");
      expect(attempts).to.equal(1);
    } finally {
      cut.close();
    }
  });
});
