// The limit bench/events compares against: a bare `ws` server in its own process, no auth, no
// Postgres. It accepts sockets and, on "fire <n>" on stdin, sends n frames spread over them (each
// stamped with the send time), so the same client measures the transport's own delivery rate.
import { createInterface } from "node:readline";
import { WebSocketServer, type WebSocket } from "ws";

const wss = new WebSocketServer({ port: Number(process.env.PORT), perMessageDeflate: false });
const sockets: WebSocket[] = [];
let seq = 0;
wss.on("connection", (ws) => {
  sockets.push(ws);
  ws.send(JSON.stringify({ v: 1, control: "ready" }));
});
wss.on("listening", () => process.stdout.write("listening\n"));
createInterface({ input: process.stdin }).on("line", (line) => {
  const n = Number(/^fire (\d+)$/.exec(line)?.[1] ?? 0);
  for (let i = 0; i < n; i++) {
    const ws = sockets[i % sockets.length]!;
    ws.send(JSON.stringify({ v: 1, type: "reward.credited", id: String(++seq), at: new Date().toISOString(), data: { t: Date.now(), amount: "1000" } }));
  }
});
