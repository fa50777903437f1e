// Test double of the Solana JSON-RPC endpoint (no chain is reachable from here), served over HTTP
// and WebSocket (web3.js confirms through signatureSubscribe on port + 1), so the settlement
// worker's real bundle and its real @solana/web3.js Connection talk to it. It decodes every
// transaction it is sent, records it as landed (confirmed) and can hold a step so a test can
// kill the worker right before or right after the send.
import { createServer, type Server } from "node:http";
import { Transaction } from "@solana/web3.js";
import bs58 from "bs58";
import { WebSocketServer, type WebSocket } from "ws";
import { freePort } from "../support/ports";

export interface SentTransaction {
  signature: string;
  /** The memo names the payout: `twist-payout:<id>`. */
  memo: string;
}

type Hold = "none" | "send" | "confirm";

export class SolanaRpcDouble {
  /** Transactions that reached the "chain", in order. */
  readonly landed: SentTransaction[] = [];
  /** Block height reported; beyond 1000 every blockhash this double handed out has expired. */
  height = 0;
  /**
   * "send": sendTransaction requests are held unanswered and do not land (the worker dies before
   * its send reaches the chain). "confirm": sends land, but confirmation is held (it dies after).
   */
  hold: Hold = "none";
  readonly held: string[] = [];
  url = "";
  private http!: Server;
  private wss!: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();

  async start(): Promise<void> {
    const port = await portPair();
    this.url = `http://127.0.0.1:${port}`;
    this.http = createServer((req, res) => {
      let text = "";
      req.on("data", (d) => (text += d));
      req.on("end", () => {
        const call = JSON.parse(text) as { id: number; method: string; params: unknown[] };
        const answer = this.answer(call.method, call.params);
        if (answer === undefined) return; // held: never answered
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: call.id, ...answer }));
      });
    });
    await new Promise<void>((resolve) => this.http.listen(port, "127.0.0.1", resolve));
    this.wss = new WebSocketServer({ host: "127.0.0.1", port: port + 1 });
    let subscription = 0;
    this.wss.on("connection", (socket: WebSocket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("message", (data: import("ws").RawData) => {
        const call = JSON.parse(String(data)) as { id: number; method: string; params: unknown[] };
        if (call.method === "signatureSubscribe" && this.hold === "confirm") return;
        // Subscribed; the client then asks getSignatureStatuses, which decides.
        socket.send(JSON.stringify({ jsonrpc: "2.0", id: call.id, result: call.method.endsWith("Unsubscribe") ? true : ++subscription }));
      });
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    this.http.closeAllConnections();
    await Promise.all([new Promise((r) => this.wss.close(r)), new Promise((r) => this.http.close(r))]);
  }

  private answer(method: string, params: unknown[]): { result: unknown } | { error: unknown } | undefined {
    const context = { slot: 1 };
    switch (method) {
      case "getLatestBlockhash":
        return { result: { context, value: { blockhash: bs58.encode(Buffer.alloc(32, this.height % 251)), lastValidBlockHeight: this.height + 1000 } } };
      case "getBlockHeight":
        return { result: this.height };
      case "sendTransaction": {
        const tx = Transaction.from(Buffer.from(params[0] as string, "base64"));
        const signature = bs58.encode(tx.signature!);
        if (this.hold === "send") {
          this.held.push(signature);
          return undefined;
        }
        const memo = Buffer.from(tx.instructions.at(-1)!.data).toString("utf8");
        this.landed.push({ signature, memo });
        if (this.hold === "confirm") this.held.push(signature);
        return { result: signature };
      }
      case "getSignatureStatuses": {
        const [signatures] = params as [string[]];
        const value = signatures.map((s) => {
          if (!this.landed.some((t) => t.signature === s)) return null;
          if (this.hold === "confirm") return { slot: 1, confirmations: 0, err: null, status: { Ok: null }, confirmationStatus: "processed" };
          return { slot: 1, confirmations: null, err: null, status: { Ok: null }, confirmationStatus: "confirmed" };
        });
        return { result: { context, value } };
      }
      default:
        return { error: { code: -32601, message: `method ${method} not in the double` } };
    }
  }
}

/** A port p with p + 1 free too (web3.js derives the WebSocket endpoint as port + 1). */
async function portPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const next = createServer();
    const free = await new Promise<boolean>((resolve) => {
      next.once("error", () => resolve(false));
      next.listen(port + 1, "127.0.0.1", () => resolve(true));
    });
    if (free) {
      await new Promise((r) => next.close(r));
      return port;
    }
  }
}
