// Bundles every runtime with esbuild into dist/. The Pulumi program deploys these files: the Worker
// script content and the services' container images are built from exactly what this writes.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import yaml from "js-yaml";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** One entry per deployable. Node services keep packages with native or optional parts external. */
export const bundles = [
  {
    name: "edge",
    entryPoints: { index: "runtime/edge/src/index.ts" },
    platform: "neutral",
    format: "esm",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    // workerd's built-in modules (the DurableObject base class) are provided by the runtime.
    external: ["cloudflare:*"],
  },
  {
    name: "auth",
    entryPoints: { main: "runtime/auth/src/main.ts" },
    platform: "node",
    format: "cjs",
    apiSpec: "docs/api/auth.yaml",
  },
  {
    name: "influencer",
    entryPoints: {
      main: "runtime/influencer/src/main.ts",
      migrate: "runtime/influencer/src/migrate.ts",
      worker: "runtime/influencer/src/worker.ts",
      backup: "runtime/influencer/src/backup/main.ts",
      restore: "scripts/restore.ts",
    },
    platform: "node",
    format: "cjs",
    external: ["pg-native", "bufferutil", "utf-8-validate"],
    apiSpec: "docs/api/influencer.yaml",
  },
];

export async function buildAll({ only } = {}) {
  const written = [];
  for (const b of bundles) {
    if (only && !only.includes(b.name)) continue;
    const outdir = join(root, "dist", b.name);
    mkdirSync(outdir, { recursive: true });
    const entryPoints = Object.fromEntries(
      Object.entries(b.entryPoints).map(([out, src]) => {
        if (!existsSync(join(root, src))) throw new Error(`build: entry ${src} of ${b.name} does not exist`);
        return [out, join(root, src)];
      }),
    );
    const result = await build({
      entryPoints,
      outdir,
      bundle: true,
      minify: false,
      sourcemap: "linked",
      target: "es2022",
      platform: b.platform,
      format: b.format,
      conditions: b.conditions,
      mainFields: b.mainFields,
      external: b.external,
      metafile: true,
      logLevel: "warning",
      legalComments: "none",
    });
    writeFileSync(join(outdir, "meta.json"), JSON.stringify(result.metafile));
    if (b.apiSpec) written.push(...writeApiDocs(b.apiSpec, outdir));
    written.push(...Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js")));
  }
  return written;
}

/** Swagger UI's files the docs page loads (runtime/service/src/api-docs.ts serves them). */
const SWAGGER_UI_FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"];

/** The service's OpenAPI document as JSON and Swagger UI beside its bundle, where loadApiDocs looks. */
function writeApiDocs(specPath, outdir) {
  const spec = yaml.load(readFileSync(join(root, specPath), "utf8"));
  const specOut = join(outdir, "openapi.json");
  writeFileSync(specOut, JSON.stringify(spec));
  const swaggerDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  mkdirSync(join(outdir, "swagger-ui"), { recursive: true });
  for (const file of SWAGGER_UI_FILES) copyFileSync(join(swaggerDir, file), join(outdir, "swagger-ui", file));
  return [specOut, ...SWAGGER_UI_FILES.map((f) => join(outdir, "swagger-ui", f))].map((f) => f.slice(root.length + 1));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const only = process.argv.slice(2);
  buildAll({ only: only.length ? only : undefined }).then(
    (files) => {
      for (const f of files) console.log(`built ${f}`);
    },
    (err) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
