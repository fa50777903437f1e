// The TWIST edge Worker: VAU ingest (contract 4), its Durable Objects and the reward queue consumer.
// Routes are the table in routes.ts; headers and behaviour are described in docs/edge.md.
import { ApiError, notFound, retryAfterSeconds, unavailable, validationError } from "@twist/shared/errors";
import { recordRequest } from "./analytics";
import { allowedHeaders, audit, type AuditItem } from "./audit";
import { loadConfig, type ConfigResult, type EdgeConfig } from "./config";
import { consume } from "./consumer";
import { BINDING_KINDS, type Env } from "./env";
import { corsHeaders, errorResponse, json, preflight, requestIdOf, withHeaders } from "./http";
import { auditItem, errorItem, ingest, rateLimitHeaders, type ItemResult, type RequestContext } from "./ingest";
import { log } from "./log";
import { inc, metricsText, observeDuration } from "./metrics";
import { authenticate, checkSignature, parseJsonBody, readBody } from "./request";
import { routesAt, type Operation, type Route } from "./routes";
import { batchItems, validateVau, type VauInput } from "./vau";

export { HourlyAggregator } from "./objects/hourly-aggregator";
export { VauDedupe } from "./objects/vau-dedupe-draining";
export { WalletGate } from "./objects/wallet-gate";

/** What a handler gets: the environment, the configuration as loaded, and the request's audit trace. */
interface HandlerContext {
  env: Env;
  loaded: ConfigResult;
  waitUntil: (p: Promise<unknown>) => void;
  now: number;
  trace: Trace;
}

type Handler = (request: Request, route: Route, hc: HandlerContext) => Promise<Response>;

/** What the audit entry of an ingest request records besides the allow-listed headers. */
interface Trace {
  wallet?: string;
  items: AuditItem[];
}

const HANDLERS: Record<Operation, Handler> = {
  ingestVau: handleVau,
  ingestBatch: handleBatch,
  health: handleHealth,
  ready: handleReady,
  metrics: handleMetrics,
};

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const started = Date.now();
    const requestId = requestIdOf(request);
    const path = new URL(request.url).pathname;
    const routes = routesAt(path);
    const route = routes.find((r) => r.method === request.method);
    const loaded = loadConfig(env);
    const corsAllowed = loaded.ok ? loaded.config.corsOrigins : "*";
    const hc: HandlerContext = { env, loaded, waitUntil: (p) => ctx.waitUntil(p), now: started, trace: { items: [] } };
    let response: Response;
    try {
      const methods = routes.map((r) => r.method);
      if (routes.length === 0) throw notFound(`no route for ${path}`);
      if (request.method === "OPTIONS") response = preflight(request, corsAllowed, methods);
      else if (!route) throw new ApiError("METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${path}`, { headers: { Allow: [...methods, "OPTIONS"].join(", ") } });
      else response = await HANDLERS[route.operation](request, route, hc);
    } catch (err) {
      if (!(err instanceof ApiError)) log("error", "unhandled error", { requestId, path: routes.length ? path : "unmatched", error: String(err) });
      response = errorResponse(err, requestId);
    }
    response = withHeaders(response, { "X-Request-Id": requestId, ...corsHeaders(request, corsAllowed) });
    const routeLabel = routes.length ? path : "unmatched";
    const code = response.status >= 400 ? await errorCode(response) : undefined;
    inc("twist_edge_requests_total", { route: routeLabel, status: String(response.status) });
    observeDuration(routeLabel, Date.now() - started);
    recordRequest(env.ANALYTICS, { route: routeLabel, method: request.method, status: response.status, outcome: code?.toLowerCase() ?? "ok", durationMs: Date.now() - started });
    if (route?.bodyLimitBytes !== undefined && env.AUDIT) {
      audit(
        env.AUDIT,
        {
          at: new Date(started).toISOString(),
          requestId,
          method: request.method,
          path,
          status: response.status,
          ...(code ? { code } : {}),
          ...(hc.trace.wallet ? { walletAddress: hc.trace.wallet } : {}),
          durationMs: Date.now() - started,
          headers: allowedHeaders(request.headers),
          items: hc.trace.items,
        },
        loaded.ok ? loaded.config.batchFlushMs : 1000,
        hc.waitUntil,
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

/** The configuration, or 503 naming every bad variable until it is fixed. */
function configOf(hc: HandlerContext): EdgeConfig {
  if (!hc.loaded.ok) throw unavailable(`edge misconfigured: ${hc.loaded.problems.join("; ")}`);
  return hc.loaded.config;
}

/** Configuration, token, body limit and signature, common to both ingest routes. */
async function authenticatedBody(request: Request, route: Route, hc: HandlerContext): Promise<{ rc: RequestContext; wallet: string; body: unknown }> {
  const config = configOf(hc);
  const wallet = await authenticate(request, config, hc.now);
  hc.trace.wallet = wallet;
  const raw = await readBody(request, route.bodyLimitBytes!);
  await checkSignature(request, raw, config, hc.now);
  return { rc: { env: hc.env, config, waitUntil: hc.waitUntil, now: hc.now }, wallet, body: parseJsonBody(raw) };
}

function invalidVau(details: unknown): ApiError {
  inc("twist_edge_vau_total", { outcome: "invalid" });
  return validationError("the VAU is invalid", details);
}

async function handleVau(request: Request, route: Route, hc: HandlerContext): Promise<Response> {
  const { rc, wallet, body } = await authenticatedBody(request, route, hc);
  const check = validateVau(body, rc.config, rc.now);
  if (!check.ok) throw invalidVau(check.details);
  const { results, rateLimit, retryAfterMs } = await ingest(rc, wallet, [check.value]);
  const result = results[0]!;
  hc.trace.items.push(auditItem(result, check.value));
  const headers = rateLimitHeaders(rateLimit);
  if ("error" in result) {
    const extra: Record<string, string> = result.status === 429 ? { "Retry-After": retryAfterSeconds(retryAfterMs) } : {};
    throw new ApiError(result.error.code, result.error.message, { status: result.status, details: { vauId: result.vauId }, headers: { ...headers, ...extra } });
  }
  const { vauId, earned, trustScore, timestamp } = result;
  return json({ vauId, earned, trustScore, timestamp }, 200, headers);
}

async function handleBatch(request: Request, route: Route, hc: HandlerContext): Promise<Response> {
  const { rc, wallet, body } = await authenticatedBody(request, route, hc);
  const items = batchItems(body);
  const results: ItemResult[] = new Array(items.length);
  const valid: { index: number; vau: VauInput }[] = [];
  items.forEach((item, index) => {
    const check = validateVau(item, rc.config, rc.now);
    if (check.ok) valid.push({ index, vau: check.value });
    else results[index] = errorItem(invalidVau(check.details));
  });
  let headers: Record<string, string> = {};
  if (valid.length) {
    const out = await ingest(
      rc,
      wallet,
      valid.map((v) => v.vau),
    );
    valid.forEach((v, n) => {
      results[v.index] = out.results[n]!;
    });
    headers = rateLimitHeaders(out.rateLimit);
    if (out.retryAfterMs > 0) headers["Retry-After"] = retryAfterSeconds(out.retryAfterMs);
  }
  const vauAt = new Map(valid.map((v) => [v.index, v.vau]));
  results.forEach((r, index) => {
    hc.trace.items.push(auditItem(r, vauAt.get(index)));
  });
  return json({ results: results.map((r, index) => ({ index, ...r })) }, 200, headers);
}

/** Process up, bindings present and configuration valid (loadConfig checks both); no I/O. */
async function handleHealth(_request: Request, _route: Route, hc: HandlerContext): Promise<Response> {
  configOf(hc);
  return json({ status: "ok", bindings: Object.keys(BINDING_KINDS) });
}

/** Every storage binding of the declaration answers: a KV read, an R2 head, a Durable Object ping. */
async function handleReady(_request: Request, _route: Route, hc: HandlerContext): Promise<Response> {
  configOf(hc);
  const bindings = hc.env as unknown as Record<string, unknown>;
  // Each probe knows its binding's kind; the env is read by name, so the cast is at the call.
  const probes: Record<string, (binding: unknown) => Promise<unknown>> = {
    kv: (kv) => (kv as KVNamespace).get("ready-probe"),
    r2: (r2) => (r2 as R2Bucket).head("ready-probe"),
    do: (ns) => {
      const objects = ns as DurableObjectNamespace<{ ping(): Promise<true> } & Rpc.DurableObjectBranded>;
      return objects.get(objects.idFromName("ready-probe")).ping();
    },
  };
  const probed = Object.entries(BINDING_KINDS).filter(([, kind]) => probes[kind]);
  const checks = await Promise.allSettled(probed.map(([name, kind]) => probes[kind]!(bindings[name])));
  const failed = checks.flatMap((c, i) => (c.status === "rejected" ? [probed[i]![0]] : []));
  if (failed.length) throw unavailable(`bindings not answering: ${failed.join(", ")}`);
  return json({ status: "ready", probed: probed.map(([name]) => name) });
}

async function handleMetrics(): Promise<Response> {
  return new Response(metricsText(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
}
