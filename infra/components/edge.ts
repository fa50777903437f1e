// EdgePlatform: everything the VAU Worker runs on, derived from runtime/edge/bindings.ts: KV
// namespaces, the private R2 audit bucket with its lifecycle rule, the reward queue and its
// dead-letter queue, the WorkersScript (bundle content, Durable Object migrations, bindings), the
// queue consumer and the custom domain.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import * as decl from "../../runtime/edge/bindings";
import { physicalName } from "../naming";
import { workerBindings, workerMigrations } from "./worker-bindings";

export interface EdgePlatformArgs {
  stack: string;
  accountId: string;
  zoneId: string;
  /** Custom domain of the Worker (inside the zone). */
  hostname: string;
  /** esbuild output of `node scripts/build.mjs edge`. */
  bundlePath: string;
  commit: string;
  /** plain_text values by variable name (declared vars, plus the optional ones that are set). */
  vars: Record<string, pulumi.Input<string>>;
  secrets: Record<decl.SecretName, pulumi.Output<string>>;
}

/** Reads the Worker bundle at program run time; the program never invents Worker content. */
export function readWorkerBundle(path: string): string {
  if (!existsSync(path)) {
    throw new Error(`Worker bundle ${relative(process.cwd(), path) || path} does not exist: run \`npm run build\` (or \`node scripts/build.mjs edge\`) first`);
  }
  return readFileSync(path, "utf8");
}

export class EdgePlatform extends pulumi.ComponentResource {
  readonly workerName: pulumi.Output<string>;
  readonly url: pulumi.Output<string>;
  readonly bundleSha256: string;
  readonly kvNamespaces: Record<string, cloudflare.WorkersKvNamespace> = {};
  readonly buckets: Record<string, cloudflare.R2Bucket> = {};
  readonly queues: Record<string, cloudflare.Queue> = {};
  readonly script: cloudflare.WorkersScript;
  readonly consumers: cloudflare.QueueConsumer[] = [];

  constructor(name: string, args: EdgePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("twist:edge:EdgePlatform", name, {}, opts);
    const child = { parent: this };
    const { accountId, stack } = args;

    for (const kv of decl.kvNamespaces) {
      this.kvNamespaces[kv.binding] = new cloudflare.WorkersKvNamespace(`kv-${kv.title}`, { accountId, title: physicalName(kv.title, stack) }, child);
    }

    for (const r2 of decl.r2Buckets) {
      const bucket = new cloudflare.R2Bucket(`r2-${r2.bucket}`, { accountId, name: physicalName(r2.bucket, stack), storageClass: "Standard" }, child);
      this.buckets[r2.binding] = bucket;
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

    for (const q of decl.queues) {
      this.queues[q.queue] = new cloudflare.Queue(`queue-${q.queue}`, { accountId, queueName: physicalName(q.queue, stack) }, child);
    }
    const queueNames: Record<string, pulumi.Output<string>> = {};
    for (const q of decl.queues) if (q.binding) queueNames[q.binding] = this.queues[q.queue]!.queueName;

    const content = readWorkerBundle(args.bundlePath);
    this.bundleSha256 = createHash("sha256").update(content).digest("hex");

    this.script = new cloudflare.WorkersScript(
      "worker",
      {
        accountId,
        scriptName: physicalName(decl.WORKER.name, stack),
        content,
        mainModule: decl.WORKER.mainModule,
        compatibilityDate: decl.WORKER.compatibilityDate,
        compatibilityFlags: [...decl.WORKER.compatibilityFlags],
        bindings: workerBindings({
          kvNamespaceIds: Object.fromEntries(Object.entries(this.kvNamespaces).map(([b, ns]) => [b, ns.id])),
          r2BucketNames: Object.fromEntries(Object.entries(this.buckets).map(([b, bucket]) => [b, bucket.name])),
          queueNames,
          analyticsDatasetNames: Object.fromEntries(decl.analyticsDatasets.map((a) => [a.binding, physicalName(a.dataset, stack).replace(/-/g, "_")])),
          vars: args.vars,
          secrets: args.secrets,
        }),
        migrations: workerMigrations(),
        // The commit in the version annotation ties every Worker version to the source it came from.
        annotations: { workersTag: args.commit.slice(0, 40), workersMessage: `twist ${args.commit}` },
        observability: { enabled: true },
      },
      child,
    );

    for (const q of decl.queues) {
      if (!q.consumer) continue;
      const dlq = this.queues[q.consumer.deadLetterQueue];
      if (!dlq) throw new Error(`bindings: dead-letter queue ${q.consumer.deadLetterQueue} of ${q.queue} is not declared`);
      this.consumers.push(
        new cloudflare.QueueConsumer(
          `queue-${q.queue}-consumer`,
          {
            accountId,
            queueId: this.queues[q.queue]!.queueId,
            scriptName: this.script.scriptName,
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
      );
    }

    const domain = new cloudflare.WorkersCustomDomain(
      "worker-domain",
      { accountId, zoneId: args.zoneId, hostname: args.hostname, service: this.script.scriptName },
      child,
    );

    this.workerName = this.script.scriptName;
    this.url = pulumi.interpolate`https://${domain.hostname}`;
    this.registerOutputs({ workerName: this.workerName, url: this.url });
  }
}
