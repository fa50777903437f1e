// The service's OpenAPI document, served: GET /openapi.json (the spec) and GET /docs (Swagger UI).
// Everything comes from the service itself (swagger-ui-dist's files copied next to the bundle by
// scripts/build.mjs), no CDN: the page works behind the tunnel, offline and under helmet's CSP,
// which is why the initialiser is a script file rather than inline.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import express, { type Router } from "express";

export interface ApiDocs {
  /** The OpenAPI document (parsed JSON). */
  spec: Record<string, unknown>;
  /** Folder holding swagger-ui-bundle.js, swagger-ui.css and favicon-32x32.png. */
  swaggerUiDir: string;
}

/** Where scripts/build.mjs puts them beside a service bundle. */
export const API_DOCS_FILES = { spec: "openapi.json", swaggerUi: "swagger-ui" } as const;

/**
 * The docs beside a bundle (`__dirname` of dist/<service>/main.js), or undefined where they are not
 * (a service started from its sources with tsx): the API then runs without /openapi.json and /docs.
 * The images always have them; the bundle tests check that layout.
 */
export function loadApiDocs(bundleDir: string): ApiDocs | undefined {
  const specPath = join(bundleDir, API_DOCS_FILES.spec);
  const swaggerUiDir = join(bundleDir, API_DOCS_FILES.swaggerUi);
  if (!existsSync(specPath) || !existsSync(join(swaggerUiDir, "swagger-ui-bundle.js"))) return undefined;
  return { spec: JSON.parse(readFileSync(specPath, "utf8")) as Record<string, unknown>, swaggerUiDir };
}

const PAGE = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// Swagger UI's "try it out" is off: the page documents, it does not call the API for the reader.
const INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, supportedSubmitMethods: [], validatorUrl: null });\n`;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function apiDocsRouter(docs: ApiDocs): Router {
  const router = express.Router();
  const info = (docs.spec.info ?? {}) as { title?: string };
  const page = PAGE(escapeHtml(info.title ?? "API"));
  router.get("/openapi.json", (_req, res) => {
    res.json(docs.spec);
  });
  router.get("/docs", (_req, res) => {
    res.type("html").send(page);
  });
  router.get("/docs/init.js", (_req, res) => {
    res.type("application/javascript").send(INIT);
  });
  router.use("/docs", express.static(docs.swaggerUiDir, { index: false, fallthrough: true, maxAge: "1h" }));
  return router;
}
