// EdgePlatform: everything the VAU Worker runs on, derived from runtime/edge/bindings.ts: KV
// namespaces, the private R2 audit bucket with its lifecycle rule, the reward queue and its
// dead-letter queue, the WorkersScript (bundle file, Durable Object migrations, bindings), the
// queue consumer and the custom domain.
//
// Stateful resources (KV namespaces, R2 buckets, queues and the Worker, which owns the Durable
// Object storage) are `retainOnDelete`: removing them from the program, or a destroy, leaves the
// data in the account for an operator to delete on purpose.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import * as decl from "../../runtime/edge/bindings";
import { analyticsDatasetName, physicalName } from "../naming";
import { workerBindings } from "./worker-bindings";
import { pendingMigrations } from "./worker-migrations";

export interface EdgePlatformArgs {
  /** Stack name; every physical name ends in it (twist-<logical>-<stack>). Required. */
  stack: string;
  /** Cloudflare account every edge resource lives in. Required. */
  accountId: string;
  /** Zone of `hostname`. Required. */
  zoneId: string;
  /** Custom domain of the Worker (inside the zone). Required. */
  hostname: string;
  /**
   * esbuild output of `node scripts/build.mjs edge`. Required. Sent as `contentFile` (relative to the
   * directory Pulumi runs in, the project root) with its `contentSha256`, so state and diffs hold a
   * hash, not 58 kB of JavaScript.
   */
  bundlePath: string;
  /** plain_text values by variable name: every declared var, plus the optional ones that are set. Required. */
  vars: Record<string, pulumi.Input<string>>;
  /** secret_text values, one per declared secret (Pulumi secrets). Required. */
  secrets: Record<decl.SecretName, pulumi.Output<string>>;
  /**
   * Durable Object migration ledger. Default: `migrations` of runtime/edge/bindings.ts.
   */
  migrations?: readonly decl.DurableObjectMigrationDecl[];
  /** Changes a child's args before it is created (SST's transform). Default: none. */
  transform?: { script?: (args: cloudflare.WorkersScriptArgs) => void };
}

/** Reads the Worker bundle at program run time; the program never invents Worker content. */
export function readWorkerBundle(path: string): string {
  if (!existsSync(path)) {
    throw new Error(`Worker bundle ${relative(process.cwd(), path) || path} does not exist: run \`npm run build\` (or \`node scripts/build.mjs edge\`) first`);
  }
  return readFileSync(path, "utf8");
}

/** What the component created, by role (SST's `nodes`). */
export interface EdgeNodes {
  kvNamespaces: Record<string, cloudflare.WorkersKvNamespace>;
  buckets: Record<string, cloudflare.R2Bucket>;
  queues: Record<string, cloudflare.Queue>;
  script: cloudflare.WorkersScript;
  consumers: cloudflare.QueueConsumer[];
  domain: cloudflare.WorkersCustomDomain;
}

export class EdgePlatform extends pulumi.ComponentResource {
  readonly nodes: EdgeNodes;
  readonly workerName: pulumi.Output<string>;
  readonly url: pulumi.Output<string>;
  readonly bundleSha256: string;

  constructor(name: string, args: EdgePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("twist:edge:EdgePlatform", name, {}, opts);
    const child = { parent: this };
    const stateful = { parent: this, retainOnDelete: true };
    const { accountId, stack } = args;
    const scriptName = physicalName(decl.WORKER.name, stack);

    const kvNamespaces = createKvNamespaces();
    const buckets = createPrivateBuckets();
    const queues = createQueues();
    this.bundleSha256 = createHash("sha256").update(readWorkerBundle(args.bundlePath)).digest("hex");
    const script = createScript(this.bundleSha256, readLiveMigrationTag(this));
    const consumers = createConsumers();
    const domain = createDomain();

    this.nodes = { kvNamespaces, buckets, queues, script, consumers, domain };
    this.workerName = script.scriptName;
    this.url = pulumi.interpolate`https://${domain.hostname}`;
    this.registerOutputs({ workerName: this.workerName, url: this.url });

    function createKvNamespaces() {
      return Object.fromEntries(
        decl.kvNamespaces.map((kv) => [kv.binding, new cloudflare.WorkersKvNamespace(`kv-${kv.title}`, { accountId, title: physicalName(kv.title, stack) }, stateful)]),
      );
    }

    function createPrivateBuckets() {
      const out: Record<string, cloudflare.R2Bucket> = {};
      for (const r2 of decl.r2Buckets) {
        const bucket = new cloudflare.R2Bucket(`r2-${r2.bucket}`, { accountId, name: physicalName(r2.bucket, stack), storageClass: "Standard" }, stateful);
        out[r2.binding] = bucket;
        // Private: the public r2.dev URL is declared off rather than left to whatever the account default is.
        new cloudflare.R2ManagedDomain(`r2-${r2.bucket}-public-access`, { accountId, bucketName: bucket.name, enabled: false }, child);
        new cloudflare.R2BucketLifecycle(
          `r2-${r2.bucket}-lifecycle`,
          {
            accountId,
            bucketName: bucket.name,
            rules: [
              {
                id: `expire-after-${r2.retentionDays}-days`,
                enabled: true,
                conditions: { prefix: "" },
                deleteObjectsTransition: { condition: { type: "Age", maxAge: r2.retentionDays * 86_400 } },
                abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: 7 * 86_400 } },
              },
            ],
          },
          child,
        );
      }
      return out;
    }

    function createQueues() {
      return Object.fromEntries(decl.queues.map((q) => [q.queue, new cloudflare.Queue(`queue-${q.queue}`, { accountId, queueName: physicalName(q.queue, stack) }, stateful)]));
    }

    /** The script's live migration tag, from the provider's workers-scripts data source (undefined: no such script yet). */
    function readLiveMigrationTag(parent: pulumi.Resource): pulumi.Output<string | undefined> {
      return cloudflare.getWorkersScriptsOutput({ accountId }, { parent }).apply((r) => r.results.find((s) => s.id === scriptName)?.migrationTag || undefined);
    }

    function createScript(contentSha256: string, liveTag: pulumi.Output<string | undefined>) {
      const queueNames: Record<string, pulumi.Output<string>> = {};
      for (const q of decl.queues) if (q.binding) queueNames[q.binding] = queues[q.queue]!.queueName;
      const scriptArgs: cloudflare.WorkersScriptArgs = {
        accountId,
        scriptName,
        contentFile: relative(process.cwd(), args.bundlePath),
        contentSha256,
        mainModule: decl.WORKER.mainModule,
        compatibilityDate: decl.WORKER.compatibilityDate,
        compatibilityFlags: [...decl.WORKER.compatibilityFlags],
        bindings: workerBindings({
          kvNamespaceIds: Object.fromEntries(Object.entries(kvNamespaces).map(([b, ns]) => [b, ns.id])),
          r2BucketNames: Object.fromEntries(Object.entries(buckets).map(([b, bucket]) => [b, bucket.name])),
          queueNames,
          analyticsDatasetNames: Object.fromEntries(decl.analyticsDatasets.map((a) => [a.binding, analyticsDatasetName(a.dataset, stack)])),
          vars: args.vars,
          secrets: args.secrets,
        }),
        migrations: liveTag.apply((tag) => pendingMigrations(scriptName, args.migrations ?? decl.migrations, tag)),
        // The bundle's hash, not the commit: a commit that leaves the bundle alone changes nothing here.
        annotations: { workersTag: contentSha256.slice(0, 16), workersMessage: `twist bundle sha256 ${contentSha256}` },
        observability: { enabled: true },
      };
      args.transform?.script?.(scriptArgs);
      return new cloudflare.WorkersScript("worker", scriptArgs, stateful);
    }

    function createConsumers() {
      return decl.queues.flatMap((q) => {
        if (!q.consumer) return [];
        const dlq = queues[q.consumer.deadLetterQueue];
        if (!dlq) throw new Error(`bindings: dead-letter queue ${q.consumer.deadLetterQueue} of ${q.queue} is not declared`);
        return [
          new cloudflare.QueueConsumer(
            `queue-${q.queue}-consumer`,
            {
              accountId,
              queueId: queues[q.queue]!.queueId,
              scriptName: script.scriptName,
              type: "worker",
              deadLetterQueue: dlq.queueName,
              settings: {
                batchSize: q.consumer.maxBatchSize,
                maxWaitTimeMs: q.consumer.maxBatchTimeoutSeconds * 1000,
                maxRetries: q.consumer.maxRetries,
                retryDelay: q.consumer.retryDelaySeconds,
              },
            },
            child,
          ),
        ];
      });
    }

    function createDomain() {
      return new cloudflare.WorkersCustomDomain("worker-domain", { accountId, zoneId: args.zoneId, hostname: args.hostname, service: script.scriptName }, child);
    }
  }
}
