// Listens and shuts down cleanly: on SIGTERM/SIGINT the process runs its stop steps in order (stop
// accepting connections and let in-flight requests finish, then flush buffers, close pools).
import { createServer, type Server } from "node:http";
import type { Express } from "express";
import { flushAndExit, type Logger } from "@twist/shared/logger";

export interface Running {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on `port`. `prepare` runs on the server before it accepts a connection, so a handler it
 * adds (the events gateway's "upgrade") is there for the first request a health check lets through.
 */
export async function listen(app: Express, port: number, host = "0.0.0.0", prepare?: (server: Server) => void): Promise<Running> {
  const server = createServer(app);
  prepare?.(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    server,
    port: typeof address === "object" && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** Runs `stop` once on SIGTERM or SIGINT, then exits 0 (1 if it fails or exceeds `graceMs`) once the last line is written. */
export function shutdownOnSignals(logger: Logger, stop: () => Promise<void>, graceMs = 10_000): void {
  let stopping = false;
  const onSignal = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    // Not unref'd: it also keeps the process alive until stop() ends. Once every server and socket
    // is closed the event loop can be empty while stop() still awaits, and Node would exit 0 on its
    // own before "stopped" is logged (seen on loaded runs: last line "shutting down", exit 0).
    setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      flushAndExit(logger, 1);
    }, graceMs);
    try {
      await stop();
      logger.info("stopped");
      flushAndExit(logger, 0);
    } catch (err) {
      logger.error({ err }, "shutdown failed");
      flushAndExit(logger, 1);
    }
  };
  process.on("SIGTERM", () => void onSignal("SIGTERM"));
  process.on("SIGINT", () => void onSignal("SIGINT"));
}
