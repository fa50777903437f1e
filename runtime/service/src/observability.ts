// GET /health (process up), GET /ready (every dependency answers, else 503), the HTTP metrics, and
// the Prometheus handler for GET /metrics, which the frame serves on the private metrics app only.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Router, type NextFunction, type Request, type Response } from "express";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { unavailable } from "@twist/shared/errors";

export type ReadinessCheck = () => Promise<unknown>;

export interface Observability {
  registry: Registry;
  /** Records request count and latency by route pattern (never the raw path: ids would explode cardinality). */
  httpMetrics: (req: Request, res: Response, next: NextFunction) => void;
  /** httpMetrics for a request Express never sees (a front route), under its route pattern. */
  track: (req: IncomingMessage, res: ServerResponse, route: string) => void;
  routes: Router;
  /** GET /metrics: Prometheus text of this service's registry. */
  metrics: (req: Request, res: Response) => Promise<void>;
}

export function observability(service: string, checks: Record<string, ReadinessCheck>, options: { checkTimeoutMs?: number } = {}): Observability {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: "http_requests_total", help: "HTTP requests", labelNames: ["method", "route", "status"], registers: [registry] });
  const latency = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency",
    labelNames: ["method", "route"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  const timeout = options.checkTimeoutMs ?? 2000;
  const runChecks = () =>
    Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeout);
          return [name, "ok"] as const;
        } catch {
          return [name, "down"] as const;
        }
      }),
    );
  // Readiness as a metric, measured at scrape time, so an alert sees what /ready would answer.
  new Gauge({
    name: "service_dependency_up",
    help: "1 when the dependency answers its readiness check at scrape time, else 0",
    labelNames: ["dependency"],
    registers: [registry],
    async collect() {
      for (const [name, state] of await runChecks()) this.set({ dependency: name }, state === "ok" ? 1 : 0);
    },
  });

  /** Counts the request and its latency once answered, under the route routeOf names then. */
  const observe = (req: IncomingMessage, res: ServerResponse, routeOf: () => string) => {
    const end = latency.startTimer();
    res.on("finish", () => {
      const route = routeOf();
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      end({ method: req.method, route });
    });
  };
  const httpMetrics = (req: Request, res: Response, next: NextFunction) => {
    observe(req, res, () => (req.route?.path ? `${req.baseUrl}${req.route.path}` : "unmatched"));
    next();
  };
  const track = (req: IncomingMessage, res: ServerResponse, route: string) => observe(req, res, () => route);

  const routes = Router();
  routes.get("/health", (_req, res) => {
    res.json({ status: "ok", service });
  });
  routes.get("/ready", async (_req, res, next) => {
    const results = await runChecks();
    const down = results.filter(([, state]) => state === "down").map(([name]) => name);
    if (down.length) return next(unavailable(`not ready: ${down.join(", ")} unavailable`));
    res.json({ status: "ready", checks: Object.fromEntries(results) });
  });
  const metrics = async (_req: Request, res: Response) => {
    res.setHeader("Content-Type", registry.contentType);
    res.send(await registry.metrics());
  };
  return { registry, httpMetrics, track, routes, metrics };
}

/** Rejects when `promise` takes longer than `ms` (a dependency that hangs instead of failing). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
