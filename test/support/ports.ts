import { createServer } from "node:net";

/** A port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Free ports for every listener of the local platform, by the variable `npm start` / `npm run dev` read them from. */
export async function platformPorts() {
  return {
    EDGE_PORT: await freePort(),
    AUTH_PORT: await freePort(),
    INFLUENCER_PORT: await freePort(),
    AUTH_METRICS_PORT: await freePort(),
    INFLUENCER_METRICS_PORT: await freePort(),
    SETTLEMENT_METRICS_PORT: await freePort(),
  };
}
