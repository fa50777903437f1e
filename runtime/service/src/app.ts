// The common frame of a TWIST Node service; the service mounts its own routes in between.
import express, { type Express } from "express";
import helmet from "helmet";
import type { Logger } from "@twist/shared/logger";
import { jsonBody } from "./body";
import { requestContext } from "./context";
import { errorHandler, notFoundHandler } from "./errors";
import { observability, type Observability, type ReadinessCheck } from "./observability";

export interface ServiceAppOptions {
  service: string;
  logger: Logger;
  /** Dependencies /ready must reach, by name. */
  readiness: Record<string, ReadinessCheck>;
  bodyLimitBytes?: number;
  /** Mounts the service's routes; runs after the body parser, before the 404 and error handlers. */
  routes: (app: Express, obs: Observability) => void;
}

export function createServiceApp(options: ServiceAppOptions): { app: Express; obs: Observability } {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  app.use(helmet());
  app.use(requestContext(options.logger));
  // Nothing a service answers is cacheable unless its route says so (public pool search does):
  // authenticated JSON, errors and health must never sit in a shared cache.
  app.use((_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  });
  const obs = observability(options.service, options.readiness);
  app.use(obs.httpMetrics);
  app.use(obs.routes);
  app.use(jsonBody(options.bodyLimitBytes));
  options.routes(app, obs);
  app.use(notFoundHandler);
  app.use(errorHandler);
  return { app, obs };
}
