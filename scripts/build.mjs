// Bundles every runtime with esbuild into dist/. The Pulumi program deploys these files: the Worker
// script content and the services' container images are built from exactly what this writes.
import { build, context } from "esbuild";
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

/** esbuild's options for one bundle, written to dist/<name>/. */
function optionsFor(b) {
  const outdir = join(root, "dist", b.name);
  mkdirSync(outdir, { recursive: true });
  const entryPoints = Object.fromEntries(
    Object.entries(b.entryPoints).map(([out, src]) => {
      if (!existsSync(join(root, src))) throw new Error(`build: entry ${src} of ${b.name} does not exist`);
      return [out, join(root, src)];
    }),
  );
  return {
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
  };
}

/** What a bundle's build leaves beside its scripts (metafile, API docs); the files written. */
function finish(b, result) {
  const outdir = join(root, "dist", b.name);
  writeFileSync(join(outdir, "meta.json"), JSON.stringify(result.metafile));
  return [...(b.apiSpec ? writeApiDocs(b.apiSpec, outdir) : []), ...Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js"))];
}

export async function buildAll({ only } = {}) {
  const written = [];
  for (const b of bundles) {
    if (only && !only.includes(b.name)) continue;
    written.push(...finish(b, await build(optionsFor(b))));
  }
  return written;
}

/**
 * Builds every bundle, then rebuilds one whenever a file it is made of changes (esbuild's watch
 * mode), calling `onRebuilt(name)` after each successful rebuild; a failed one prints its errors and
 * keeps the last good bundle. Resolves once the first build of every bundle is written, with stop().
 */
export async function watchAll({ onRebuilt }) {
  const contexts = [];
  const firstBuilds = bundles.map(
    (b) =>
      new Promise((resolve, reject) => {
        let first = true;
        const notify = {
          name: "twist-rebuilt",
          setup(build) {
            build.onEnd((result) => {
              const ok = result.errors.length === 0;
              if (ok) finish(b, result);
              if (first) {
                first = false;
                return ok ? resolve() : reject(new Error(`build: ${b.name} failed`));
              }
              if (ok) onRebuilt(b.name);
            });
          },
        };
        context({ ...optionsFor(b), plugins: [notify] }).then((ctx) => {
          contexts.push(ctx);
          return ctx.watch();
        }, reject);
      }),
  );
  const stop = () => Promise.all(contexts.map((ctx) => ctx.dispose()));
  try {
    await Promise.all(firstBuilds);
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
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
