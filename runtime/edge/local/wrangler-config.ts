// Writes runtime/edge/wrangler.jsonc from the single bindings declaration (../bindings.ts), so the
// wrangler CLI that Worker developers expect (`npx wrangler dev`, `npx wrangler deploy --dry-run`)
// sees the same bindings, migrations and vars as Miniflare and the Pulumi program. Deploys still go
// through Pulumi; this file is for local development and dry-run builds, so names carry "-local".
//
//   npm run wrangler:config [-- --check]
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseCommandLine } from "../../../scripts/lib/cli";
import { analyticsDatasets, durableObjects, kvNamespaces, migrations, queues, r2Buckets, WORKER } from "../bindings";
import { EDGE_BUNDLE, LOCAL_VAR_DEFAULTS, REPO_ROOT } from "./miniflare";

export const WRANGLER_CONFIG = join(REPO_ROOT, "runtime", "edge", "wrangler.jsonc");
const local = (logical: string) => `twist-${logical}-local`;

/** The wrangler configuration (snake_case, as wrangler reads it) derived from bindings.ts. */
export function wranglerConfig(): Record<string, unknown> {
  return {
    $schema: "../../node_modules/wrangler/config-schema.json",
    name: local(WORKER.name),
    // The bundle `npm run build` writes and the tests run; wrangler uploads it as it is.
    main: relative(join(REPO_ROOT, "runtime", "edge"), EDGE_BUNDLE),
    no_bundle: true,
    compatibility_date: WORKER.compatibilityDate,
    compatibility_flags: [...WORKER.compatibilityFlags],
    kv_namespaces: kvNamespaces.map((k) => ({ binding: k.binding, id: local(k.title) })),
    r2_buckets: r2Buckets.map((r) => ({ binding: r.binding, bucket_name: local(r.bucket) })),
    queues: {
      producers: queues.flatMap((q) => (q.binding ? [{ binding: q.binding, queue: local(q.queue) }] : [])),
      consumers: queues.flatMap((q) =>
        q.consumer
          ? [
              {
                queue: local(q.queue),
                max_batch_size: q.consumer.maxBatchSize,
                max_batch_timeout: q.consumer.maxBatchTimeoutSeconds,
                max_retries: q.consumer.maxRetries,
                retry_delay: q.consumer.retryDelaySeconds,
                dead_letter_queue: local(q.consumer.deadLetterQueue),
              },
            ]
          : [],
      ),
    },
    durable_objects: { bindings: durableObjects.map((d) => ({ name: d.binding, class_name: d.className })) },
    migrations: migrations.map((m) => ({
      tag: m.tag,
      ...(m.newSqliteClasses ? { new_sqlite_classes: [...m.newSqliteClasses] } : {}),
      ...(m.renamedClasses ? { renamed_classes: m.renamedClasses.map((r) => ({ from: r.from, to: r.to })) } : {}),
      ...(m.deletedClasses ? { deleted_classes: [...m.deletedClasses] } : {}),
    })),
    analytics_engine_datasets: analyticsDatasets.map((a) => ({ binding: a.binding, dataset: local(a.dataset).replace(/-/g, "_") })),
    // Local defaults; secrets (JWT_KEYS, VAU_SIGNING_KEYS, SERVICE_SIGNING_KEYS) go in .dev.vars.
    vars: { ...LOCAL_VAR_DEFAULTS },
  };
}

export function renderWranglerConfig(): string {
  return `// Generated from runtime/edge/bindings.ts by \`npm run wrangler:config\`; do not edit by hand.\n${JSON.stringify(wranglerConfig(), null, 2)}\n`;
}

if (require.main === module) {
  const { values } = parseCommandLine({
    usage: "usage: npm run wrangler:config [-- --check]\n  --check  exit 1 when runtime/edge/wrangler.jsonc differs from bindings.ts instead of writing it",
    options: { check: { type: "boolean", default: false } },
  });
  const text = renderWranglerConfig();
  if (values.check) {
    let current = "";
    try {
      current = readFileSync(WRANGLER_CONFIG, "utf8");
    } catch {
      // missing counts as different
    }
    if (current !== text) {
      console.error(`${relative(REPO_ROOT, WRANGLER_CONFIG)} is out of step with bindings.ts: run npm run wrangler:config`);
      process.exit(1);
    }
    console.log(`${relative(REPO_ROOT, WRANGLER_CONFIG)} is in step with bindings.ts`);
  } else {
    writeFileSync(WRANGLER_CONFIG, text);
    console.log(`wrote ${relative(REPO_ROOT, WRANGLER_CONFIG)}`);
  }
}
