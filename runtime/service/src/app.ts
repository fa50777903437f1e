// The common frame of a TWIST Node service; the service mounts its own routes in between.
import express, { type Express } from "express";
import helmet from "helmet";
import type { Logger } from "@twist/shared/logger";
import { type ApiDocs, apiDocsRouter } from "./api-docs";
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
  /** The OpenAPI document and Swagger UI served at /openapi.json and /docs; the bundles always pass them. */
  apiDocs?: ApiDocs;
  /** Mounts the service's routes; runs after the body parser, before the 404 and error handlers. */
  routes: (app: Express, obs: Observability) => void;
}

export function createServiceApp(options: ServiceAppOptions): { app: Express; obs: Observability } {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  app.use(helmet());
  app.use(requestContext(options.logger));
  const obs = observability(options.service, options.readiness);
  app.use(obs.httpMetrics);
  app.use(obs.routes);
  if (options.apiDocs) app.use(apiDocsRouter(options.apiDocs));
  app.use(jsonBody(options.bodyLimitBytes));
  options.routes(app, obs);
  app.use(notFoundHandler);
  app.use(errorHandler);
  return { app, obs };
}
