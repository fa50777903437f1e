// The client IP for rate limits and hashing. Only a header named in configuration is trusted (the one
// our own proxy sets); otherwise the socket address. A client cannot choose its IP by sending a header.
import type { IncomingMessage } from "node:http";

/** Takes any Node request: an Express one, or the request of a WebSocket upgrade. */
export function clientIp(req: Pick<IncomingMessage, "headers" | "socket">, trustedProxyHeader: string | undefined): string {
  if (trustedProxyHeader) {
    const raw = req.headers[trustedProxyHeader.toLowerCase()];
    const value = Array.isArray(raw) ? raw.join(",") : raw;
    // X-Forwarded-For style lists: the right-most entry was appended by our proxy.
    const last = value?.split(",").pop()?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? "unknown";
}
