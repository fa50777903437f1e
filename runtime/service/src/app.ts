// The common frame of a TWIST Node service; the service mounts its own routes in between.
// GET /metrics is not on the public app: metricsAppOf(app) is a second app serving only it, which
// main.ts listens on METRICS_PORT, a port no tunnel ingress routes to.
import express, { type Express } from "express";
import helmet from "helmet";
import type { Logger } from "@twist/shared/logger";
import { type ApiDocs, apiDocsRouter } from "./api-docs";
import { jsonBody } from "./body";
import { requestContext } from "./context";
import { errorHandler, notFoundHandler } from "./errors";
import { type FrontRoute, serveFrontRoutes } from "./front-routes";
import { observability, type Observability, type ReadinessCheck } from "./observability";
import { withRequestSchemas } from "./openapi-requests";

export interface ServiceAppOptions {
  service: string;
  logger: Logger;
  /** Dependencies /ready must reach, by name. */
  readiness: Record<string, ReadinessCheck>;
  bodyLimitBytes?: number;
  /**
   * The OpenAPI document and Swagger UI served at /openapi.json and /docs; the bundles always pass
   * them. The document is served with the request schemas of the mounted routes filled in.
   */
  apiDocs?: ApiDocs;
  /** Mounts the service's routes; runs after the body parser, before the 404 and error handlers. */
  routes: (app: Express, obs: Observability) => void;
  /**
   * Hot GET routes that answer no document of their own (the click redirect), served ahead of
   * Express (front-routes.ts): they keep the request id, the access log, the HTTP metrics and the
   * error envelope, and skip the rest. Called first, with the metrics registry.
   */
  frontRoutes?: (obs: Observability) => FrontRoute[];
}

const metricsApps = new WeakMap<Express, Express>();

/** The private metrics app of a service app made by createServiceApp. */
export function metricsAppOf(app: Express): Express {
  const metrics = metricsApps.get(app);
  if (!metrics) throw new Error("not an app made by createServiceApp");
  return metrics;
}

function metricsApp(logger: Logger, obs: Observability): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(requestContext(logger));
  app.get("/metrics", obs.metrics);
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

export function createServiceApp(options: ServiceAppOptions): { app: Express; obs: Observability } {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  const obs = observability(options.service, options.readiness);
  serveFrontRoutes(app, options.frontRoutes?.(obs) ?? [], { logger: options.logger, obs });
  app.use(requestContext(options.logger));
  app.use(obs.httpMetrics);
  app.use(helmet());
  // Nothing a service answers is cacheable unless its route says so (public pool search does):
  // authenticated JSON, errors and health must never sit in a shared cache.
  app.use((_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  });
  app.use(obs.routes);
  // Served from here, before the routes; its request schemas are the routes' own, known once they are mounted.
  const docs = options.apiDocs && { ...options.apiDocs };
  if (docs) app.use(apiDocsRouter(docs));
  app.use(jsonBody(options.bodyLimitBytes));
  options.routes(app, obs);
  if (docs) docs.spec = withRequestSchemas(docs.spec, app);
  app.use(notFoundHandler);
  app.use(errorHandler);
  metricsApps.set(app, metricsApp(options.logger, obs));
  return { app, obs };
}
