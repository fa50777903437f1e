// listen's `prepare` hook runs before the server takes a connection: a handler added there (the
// events gateway's "upgrade") answers the very first request, even one a health check let through.
import { expect } from "chai";
import express from "express";
import { request } from "node:http";
import { listen } from "../src/serve";

describe("service listen: prepare runs before the first connection", () => {
  it("adds an upgrade handler the first upgrade request reaches, instead of Express's 404", async () => {
    const app = express();
    const seen: boolean[] = [];
    const running = await listen(app, 0, "127.0.0.1", (server) => {
      seen.push(server.listening);
      server.on("upgrade", (_req, socket) => socket.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n"));
    });
    try {
      expect(seen).to.deep.equal([false]);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port: running.port, path: "/", headers: { Connection: "Upgrade", Upgrade: "test" } });
        req.on("upgrade", (res, socket) => {
          socket.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on("response", (res) => resolve(res.statusCode ?? 0));
        req.on("error", reject);
        req.end();
      });
      expect(status).to.equal(101);
    } finally {
      await running.close();
    }
  });

  it("rejects with the listen error (a port in use) and leaves nothing listening", async () => {
    const first = await listen(express(), 0, "127.0.0.1");
    try {
      const err = await listen(express(), first.port, "127.0.0.1").then(
        () => null,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(err?.code).to.equal("EADDRINUSE");
    } finally {
      await first.close();
    }
  });
});
