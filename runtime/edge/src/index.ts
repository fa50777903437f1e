// The TWIST edge Worker: VAU ingest (contract 4), its Durable Objects and the reward queue consumer.
// Routes and headers are described in docs/edge.md.
import { ApiError, notFound, unavailable } from "@twist/shared/errors";
import { allowedHeaders, audit, type AuditItem } from "./audit";
import { loadConfig, type EdgeConfig } from "./config";
import { consume } from "./consumer";
import type { Env } from "./env";
import { BINDING_KINDS } from "./env";
import { corsHeaders, errorResponse, json, preflight, requestIdOf, withHeaders } from "./http";
import {
  auditItem,
  authenticate,
  batchItems,
  checkSignature,
  ingest,
  MAX_BATCH_BODY_BYTES,
  MAX_VAU_BODY_BYTES,
  parseJsonBody,
  rateLimitHeaders,
  readBody,
  validateVau,
  type ItemResult,
  type RequestContext,
  type VauInput,
} from "./ingest";
import { inc, metricsText, observeDuration } from "./metrics";
import { AGGREGATOR_NAME, callObject } from "./objects";

export { HourlyAggregator, RateLimiter, VauDedupe } from "./objects";

type Handler = (request: Request, rc: RequestContext, trace: Trace) => Promise<Response>;

/** What the audit entry of an ingest request records besides the allow-listed headers. */
interface Trace {
  wallet?: string;
  items: AuditItem[];
}

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  "/api/v1/vau": { POST: handleVau },
  "/api/v1/vau/batch": { POST: handleBatch },
  "/health": { GET: handleHealth },
  "/ready": { GET: handleReady },
  "/metrics": { GET: handleMetrics },
};

const AUDITED = new Set(["/api/v1/vau", "/api/v1/vau/batch"]);

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const started = Date.now();
    const requestId = requestIdOf(request);
    const path = new URL(request.url).pathname;
    const route = ROUTES[path];
    const loaded = loadConfig(env);
    const corsAllowed = loaded.ok ? loaded.config.corsOrigins : "*";
    const trace: Trace = { items: [] };
    let response: Response;
    try {
      if (!route) throw notFound(`no route for ${path}`);
      if (request.method === "OPTIONS") {
        response = preflight(request, corsAllowed, Object.keys(route));
      } else {
        const handler = route[request.method];
        if (!handler) {
          throw new ApiError("METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${path}`, { headers: { Allow: [...Object.keys(route), "OPTIONS"].join(", ") } });
        }
        if (!loaded.ok && path !== "/health" && path !== "/metrics") {
          throw unavailable(`edge misconfigured: ${loaded.problems.join("; ")}`);
        }
        const rc = { env, config: loaded.ok ? loaded.config : (undefined as unknown as EdgeConfig), waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p), now: started };
        response = await handler(request, rc, trace);
      }
    } catch (err) {
      if (!(err instanceof ApiError)) console.error(JSON.stringify({ level: "error", msg: "unhandled error", requestId, path, error: String(err) }));
      response = errorResponse(err, requestId);
    }
    response = withHeaders(response, { "X-Request-Id": requestId, ...corsHeaders(request, corsAllowed) });
    const routeLabel = route ? path : "unmatched";
    inc("twist_edge_requests_total", { route: routeLabel, status: String(response.status) });
    observeDuration(routeLabel, Date.now() - started);
    if (AUDITED.has(path) && request.method !== "OPTIONS" && env.AUDIT) {
      const code = response.status >= 400 ? await errorCode(response) : undefined;
      ctx.waitUntil(
        audit(
          env.AUDIT,
          {
            at: new Date(started).toISOString(),
            requestId,
            method: request.method,
            path,
            status: response.status,
            ...(code ? { code } : {}),
            ...(trace.wallet ? { walletAddress: trace.wallet } : {}),
            durationMs: Date.now() - started,
            headers: allowedHeaders(request.headers),
            items: trace.items,
          },
          loaded.ok ? loaded.config.batchFlushMs : 1000,
        ),
      );
    }
    return response;
  },

  async queue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
    await consume(batch, env);
  },
} satisfies ExportedHandler<Env>;

async function errorCode(response: Response): Promise<string | undefined> {
  try {
    return ((await response.clone().json()) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/** Authentication, body limit and signature, common to both ingest routes. */
async function authenticatedBody(request: Request, rc: RequestContext, trace: Trace, limit: number): Promise<{ wallet: string; body: unknown }> {
  const wallet = await authenticate(request, rc.config, rc.now);
  trace.wallet = wallet;
  const raw = await readBody(request, limit);
  await checkSignature(request, raw, rc.config, rc.now);
  return { wallet, body: parseJsonBody(raw) };
}

async function handleVau(request: Request, rc: RequestContext, trace: Trace): Promise<Response> {
  const { wallet, body } = await authenticatedBody(request, rc, trace, MAX_VAU_BODY_BYTES);
  const check = validateVau(body, rc.config, rc.now);
  if (!check.ok) {
    inc("twist_edge_vau_total", { outcome: "invalid" });
    throw new ApiError("VALIDATION_ERROR", "the VAU is invalid", { details: check.details });
  }
  const { results, rateLimit, retryAfterMs } = await ingest(rc, wallet, [check.value]);
  const result = results[0]!;
  trace.items.push(auditItem(result, check.value));
  const headers = rateLimitHeaders(rateLimit);
  if ("error" in result) {
    const extra: Record<string, string> = result.status === 429 ? { "Retry-After": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } : {};
    throw new ApiError(result.error.code, result.error.message, { status: result.status, details: { vauId: result.vauId }, headers: { ...headers, ...extra } });
  }
  const { vauId, earned, trustScore, timestamp } = result;
  return json({ vauId, earned, trustScore, timestamp }, 200, headers);
}

async function handleBatch(request: Request, rc: RequestContext, trace: Trace): Promise<Response> {
  const { wallet, body } = await authenticatedBody(request, rc, trace, MAX_BATCH_BODY_BYTES);
  const items = batchItems(body);
  const results: ItemResult[] = new Array(items.length);
  const valid: { index: number; vau: VauInput }[] = [];
  items.forEach((item, index) => {
    const check = validateVau(item, rc.config, rc.now);
    if (check.ok) valid.push({ index, vau: check.value });
    else {
      inc("twist_edge_vau_total", { outcome: "invalid" });
      results[index] = { status: 400, error: { code: "VALIDATION_ERROR", message: "the VAU is invalid", details: check.details } };
    }
  });
  let headers: Record<string, string> = {};
  if (valid.length) {
    const out = await ingest(rc, wallet, valid.map((v) => v.vau));
    valid.forEach((v, n) => (results[v.index] = out.results[n]!));
    headers = rateLimitHeaders(out.rateLimit);
    if (out.retryAfterMs > 0) headers["Retry-After"] = String(Math.max(1, Math.ceil(out.retryAfterMs / 1000)));
  }
  const vauAt = new Map(valid.map((v) => [v.index, v.vau]));
  results.forEach((r, index) => trace.items.push(auditItem(r, vauAt.get(index))));
  return json({ results: results.map((r, index) => ({ index, ...r })) }, 200, headers);
}

function bindingProblems(env: Env): string[] {
  return Object.entries(BINDING_KINDS)
    .filter(([name]) => !(env as unknown as Record<string, unknown>)[name])
    .map(([name, kind]) => `${name} (${kind}) is missing`);
}

/** Process up, bindings present, configuration valid; no I/O. */
async function handleHealth(_request: Request, rc: RequestContext): Promise<Response> {
  const loaded = loadConfig(rc.env);
  const problems = loaded.ok ? bindingProblems(rc.env) : loaded.problems;
  if (problems.length) throw unavailable(`edge misconfigured: ${problems.join("; ")}`);
  return json({ status: "ok", bindings: Object.keys(BINDING_KINDS) });
}

/** Every storage binding answers: KV read, R2 head, a Durable Object round trip. */
async function handleReady(_request: Request, rc: RequestContext): Promise<Response> {
  const { env } = rc;
  const checks = await Promise.allSettled([
    env.DEVICES.get("ready-probe"),
    env.AUDIT.head("ready-probe"),
    callObject(env.AGGREGATOR, AGGREGATOR_NAME, "/hours"),
  ]);
  const names = ["DEVICES", "AUDIT", "AGGREGATOR"];
  const failed = checks.flatMap((c, i) => (c.status === "rejected" ? [names[i]!] : []));
  if (failed.length) throw unavailable(`bindings not answering: ${failed.join(", ")}`);
  return json({ status: "ready" });
}

async function handleMetrics(): Promise<Response> {
  return new Response(metricsText(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
}
