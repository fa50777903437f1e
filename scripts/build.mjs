// Bundles every runtime with esbuild into dist/. The Pulumi program deploys these files: the Worker
// script content and the services' container images are built from exactly what this writes.
import { build } from "esbuild";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
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
  },
  {
    name: "auth",
    entryPoints: { main: "runtime/auth/src/main.ts" },
    platform: "node",
    format: "cjs",
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
    written.push(...Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js")));
  }
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const only = process.argv.slice(2);
  buildAll({ only: only.length ? only : undefined }).then(
    (files) => files.forEach((f) => console.log(`built ${f}`)),
    (err) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
