// Response helpers: request ids, the error envelope (contract 6) and CORS.
import { toErrorResponse } from "@twist/shared/errors";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function requestIdOf(request: Request): string {
  const incoming = request.headers.get("x-request-id");
  return incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function errorResponse(err: unknown, requestId: string): Response {
  const { status, body, headers } = toErrorResponse(err, requestId);
  return json(body, status, headers);
}

/** Headers a browser client must be allowed to send, and the ones it may read. */
export const CORS_ALLOW_HEADERS = "Authorization, Content-Type, X-Signature, X-Timestamp, X-Request-Id";
export const CORS_EXPOSE_HEADERS = "X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset";

/** CORS headers for a request's Origin, or none when the origin is not allowed. */
export function corsHeaders(request: Request, allowed: "*" | string[]): Record<string, string> {
  const origin = request.headers.get("origin");
  if (!origin) return {};
  if (allowed !== "*" && !allowed.includes(origin)) return {};
  return {
    "Access-Control-Allow-Origin": allowed === "*" ? "*" : origin,
    "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
    ...(allowed === "*" ? {} : { Vary: "Origin" }),
  };
}

export function preflight(request: Request, allowed: "*" | string[], methods: string[]): Response {
  const base = corsHeaders(request, allowed);
  if (!base["Access-Control-Allow-Origin"]) return new Response(null, { status: 204 });
  return new Response(null, {
    status: 204,
    headers: {
      ...base,
      "Access-Control-Allow-Methods": [...methods, "OPTIONS"].join(", "),
      "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
      "Access-Control-Max-Age": "600",
    },
  });
}

/** Copies extra headers onto a response (responses from fetch() have immutable headers). */
export function withHeaders(response: Response, headers: Record<string, string>): Response {
  const out = new Response(response.body, response);
  for (const [k, v] of Object.entries(headers)) out.headers.set(k, v);
  return out;
}
