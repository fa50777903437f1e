// The client IP for rate limits and hashing. Only a header named in configuration is trusted (the one
// our own proxy sets); otherwise the socket address. A client cannot choose its IP by sending a header.
import type { Request } from "express";

export function clientIp(req: Request, trustedProxyHeader: string | undefined): string {
  if (trustedProxyHeader) {
    const value = req.get(trustedProxyHeader);
    // X-Forwarded-For style lists: the right-most entry was appended by our proxy.
    const last = value?.split(",").pop()?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? "unknown";
}
