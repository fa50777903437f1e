// Listens and shuts down cleanly: on SIGTERM/SIGINT stop accepting connections, let in-flight
// requests finish, then run the service's own shutdown (flush buffers, close pools).
import type { Server } from "node:http";
import type { Express } from "express";
import type { Logger } from "@twist/shared/logger";

export interface Running {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function listen(app: Express, port: number, host = "0.0.0.0"): Promise<Running> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
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

export function shutdownOnSignals(running: Running, logger: Logger, onShutdown: () => Promise<void>, graceMs = 10_000): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, graceMs);
    force.unref();
    try {
      await running.close();
      await onShutdown();
      logger.info("stopped");
      process.exit(0);
    } catch (err) {
      logger.error({ err }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
