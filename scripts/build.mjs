// Bundles every runtime with esbuild into dist/. The Pulumi program deploys these files: the Worker
// script content and the services' container images are built from exactly what this writes. Each
// image's build context is staged apart, in dist/images/<image>/, holding only the files its
// Dockerfile copies (a few of a bundle's outputs), so a change to one entry point changes only the
// images that copy it.
//
// Every file is written only when its content changed, and then by a rename: npm test runs its
// files in parallel, and a test that builds (npm start, a bundle run alone) must never truncate a
// bundle that another test is loading at that moment.
import { build, context } from "esbuild";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import yaml from "js-yaml";
import { dirname, join, relative, resolve } from "node:path";
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

/**
 * The service images the Pulumi program builds on the VM (infra/components/backend.ts, backups.ts):
 * each from dist/images/<name>/, which stageImages fills from dist/<bundle>/ with exactly what the
 * Dockerfile's COPY lines name.
 */
export const images = [
  { name: "auth", bundle: "auth", dockerfile: "runtime/auth/Dockerfile" },
  { name: "influencer", bundle: "influencer", dockerfile: "runtime/influencer/Dockerfile" },
  { name: "migrate", bundle: "influencer", dockerfile: "runtime/influencer/migrate.Dockerfile" },
  { name: "backup", bundle: "influencer", dockerfile: "runtime/influencer/backup.Dockerfile" },
];

/**
 * The build-context paths a Dockerfile's COPY lines read (`COPY --from=<stage>` reads an image, not
 * the context). Globs are refused: they would copy whatever the bundle directory happens to hold.
 */
export function copiedSources(dockerfileText, what = "Dockerfile") {
  const sources = [];
  for (const [, args] of dockerfileText.replace(/\\\n/g, " ").matchAll(/^COPY\s+(.+)$/gm)) {
    const words = args.trim().split(/\s+/);
    if (words.some((w) => w.startsWith("--from="))) continue;
    for (const source of words.filter((w) => !w.startsWith("--")).slice(0, -1)) {
      if (/[*?[]/.test(source)) throw new Error(`build: ${what} copies ${source}: name each file, not a pattern`);
      sources.push(source);
    }
  }
  return sources;
}

/**
 * Stages dist/images/<image>/ (under `distDir`, default this checkout's dist/) for every image whose
 * bundle is in `bundleNames` (all when omitted), with the Dockerfiles of this checkout: a rollback
 * stages an older commit's bundles for today's images. Returns the files written.
 */
export function stageImages(distDir = join(root, "dist"), bundleNames) {
  const written = [];
  for (const image of images) {
    if (bundleNames && !bundleNames.includes(image.bundle)) continue;
    const from = join(distDir, image.bundle);
    const to = join(distDir, "images", image.name);
    const wanted = new Map(); // staged path -> source file
    for (const source of copiedSources(readFileSync(join(root, image.dockerfile), "utf8"), image.dockerfile)) {
      const file = join(from, source);
      if (!existsSync(file)) throw new Error(`build: ${image.dockerfile} copies ${source}, which ${from} does not hold`);
      for (const f of statSync(file).isDirectory() ? filesUnder(file) : [""]) wanted.set(join(to, source, f), join(file, f));
    }
    for (const [staged, source] of wanted) writeIfChanged(staged, readFileSync(source));
    for (const f of existsSync(to) ? filesUnder(to) : []) if (!wanted.has(join(to, f))) rmSync(join(to, f));
    written.push(...wanted.keys());
  }
  return written;
}

/** The files under `dir`, as paths relative to it. */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile())
    .map((f) => relative(dir, join(f.parentPath, f.name)));
}

/** Writes `data` to `file` unless it already holds exactly that; a new content replaces the old in one rename. */
function writeIfChanged(file, data) {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  if (existsSync(file) && readFileSync(file).equals(bytes)) return;
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, file);
}

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
    write: false, // written by finish(), only what changed
    logLevel: "warning",
    legalComments: "none",
  };
}

/** What a bundle's build leaves beside its scripts (metafile, API docs); the files written. */
function finish(b, result) {
  const outdir = join(root, "dist", b.name);
  for (const out of result.outputFiles) writeIfChanged(out.path, out.contents);
  writeIfChanged(join(outdir, "meta.json"), JSON.stringify(result.metafile));
  return [...(b.apiSpec ? writeApiDocs(b.apiSpec, outdir) : []), ...Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js"))];
}

export async function buildAll({ only } = {}) {
  const written = [];
  for (const b of bundles) {
    if (only && !only.includes(b.name)) continue;
    written.push(...finish(b, await build(optionsFor(b))));
  }
  return [...written, ...stageImages(join(root, "dist"), only).map((f) => f.slice(root.length + 1))];
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
  writeIfChanged(specOut, JSON.stringify(spec));
  const swaggerDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  for (const file of SWAGGER_UI_FILES) writeIfChanged(join(outdir, "swagger-ui", file), readFileSync(join(swaggerDir, file)));
  return [specOut, ...SWAGGER_UI_FILES.map((f) => join(outdir, "swagger-ui", f))].map((f) => f.slice(root.length + 1));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  // `--stage-images <dir>`: only stage the image contexts of bundles built into <dir> by another
  // checkout (a rollback's older commit), with this checkout's Dockerfiles.
  const staging = args[0] === "--stage-images";
  const run = staging
    ? Promise.resolve().then(() => {
        if (!args[1]) throw new Error("build: --stage-images needs the directory the bundles were built into");
        return stageImages(resolve(args[1]));
      })
    : buildAll({ only: args.length ? args : undefined });
  run.then(
    (files) => {
      for (const f of files) console.log(`built ${f}`);
    },
    (err) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
