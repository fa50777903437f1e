// Backups: the Postgres database dumped on a schedule, encrypted on the VM, kept in a private R2
// bucket. The job (runtime/influencer/src/backup) runs in its own container on the data network,
// next to Postgres; the bucket only ever receives ciphertext (AES-256-GCM under a key that is a
// Pulumi secret). Its S3 credential is an API token the program declares, scoped to this one
// bucket's objects, so the policy pack judges it and a leaked credential can neither reach other
// buckets nor change the account; the price is that the deploy token may create tokens
// (docs/secrets.md, "Tokens the stack creates"). Retention is twofold:
// the job keeps the newest `keep` backups, and a bucket lifecycle rule deletes anything older than
// `retentionDays` even if the job stops pruning.
import * as cloudflare from "@pulumi/cloudflare";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { physicalName } from "../naming";
import { SECRET_ENV_LOADER, secretFiles, serviceImage } from "./backend";

/**
 * "Workers R2 Storage Bucket Item Write": read, write and list objects of the buckets a policy
 * names (developers.cloudflare.com/r2/api/tokens). By id, the id the policy pack's allow-list
 * reviewed: looking it up by name would make every preview need a permission to list groups.
 */
export const BUCKET_OBJECT_WRITE_GROUP_ID = "2efd5506f9c8494dacb1fa10a3e7d5b6";
/** Where the job writes inside the bucket; the lifecycle rule applies to this prefix. */
export const BACKUP_PREFIX = "postgres/";
export const BACKUP_METRICS_PORT = 9187;
/** The postgres:16.6-bookworm base image's "postgres" user. */
const BACKUP_IMAGE_USER = ["999", "999"] as const;

export interface BackupsArgs {
  /** Stack name; the bucket and container names end in it. Required. */
  stack: string;
  /** Repository root: the Dockerfile is runtime/influencer/backup.Dockerfile. Required. */
  repoRoot: string;
  /** The built bundles (BackendHost's artifactsDir): the image's context is its staged images/backup/ folder. Required. */
  artifactsDir: string;
  /** Docker platform of the primary host, e.g. linux/arm64. Required. */
  platform: string;
  /** Account of the bucket and the provider to manage it with. Required. */
  cloudflare: { accountId: string; provider: cloudflare.Provider };
  /** The primary host's Docker daemon (BackendHost's `nodes.hosts[0].provider`). Required. */
  docker: docker.Provider;
  /** The primary's internal data network (a Postgres container, Prometheus) and a network with a route out (R2, a managed Postgres). Required. */
  networks: { data: pulumi.Input<string>; egress: pulumi.Input<string> };
  /** DATABASE_URL of the database to dump (a Pulumi secret): BackendHost's `databaseUrl`, container or external. Required. */
  databaseUrl: pulumi.Output<string>;
  /** BACKUP_ENCRYPTION_KEYS: kid:<base64 32 bytes>[,previous], current first (a Pulumi secret). Required. */
  encryptionKeys: pulumi.Output<string>;
  /** Minutes between backups. Default 60 (hourly). */
  intervalMinutes?: number;
  /** Newest backups the job keeps. Default 48 (two days of hourly backups). */
  keep?: number;
  /** Objects older than this are deleted by the bucket itself. Default 30. */
  retentionDays?: number;
  /** When the bucket token expires (RFC 3339): rotate before it. Required. */
  tokenExpiresOn: string;
  /** The only addresses the bucket token works from (the primary host's egress address). None: any address. */
  allowedCidrs?: string[];
}

export class Backups extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly container: docker.Container;
  /** S3 credential of the job (both parts Pulumi secrets): also what `npm run restore` needs. */
  readonly credentials: { accessKeyId: pulumi.Output<string>; secretAccessKey: pulumi.Output<string> };
  readonly endpoint: string;

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("twist:backups:Backups", name, {}, opts);
    const settings = { intervalMinutes: args.intervalMinutes ?? 60, keep: args.keep ?? 48, retentionDays: args.retentionDays ?? 30 };
    const bucket = this.privateBucket(args);
    this.lifecycleRule(args, bucket, settings.retentionDays);
    this.credentials = this.bucketCredential(args, bucket);
    this.endpoint = `https://${args.cloudflare.accountId}.r2.cloudflarestorage.com`;
    // The networks and Postgres are the backend's: the container waits for whatever this component waits for.
    this.container = this.jobContainer(args, bucket, settings, opts?.dependsOn);
    this.bucketName = bucket.name;
    this.registerOutputs({ bucketName: this.bucketName, endpoint: this.endpoint });
  }

  /** No r2.dev or custom domain is declared for it: reachable only with a credential. */
  private privateBucket(args: BackupsArgs): cloudflare.R2Bucket {
    return new cloudflare.R2Bucket(
      "bucket",
      { accountId: args.cloudflare.accountId, name: physicalName("backups", args.stack), storageClass: "Standard" },
      // Backups outlive the program: never deleted with the stack (as the Worker's stateful resources).
      { parent: this, provider: args.cloudflare.provider, protect: args.stack === "production", retainOnDelete: true },
    );
  }

  private lifecycleRule(args: BackupsArgs, bucket: cloudflare.R2Bucket, retentionDays: number): cloudflare.R2BucketLifecycle {
    return new cloudflare.R2BucketLifecycle(
      "bucket-lifecycle",
      {
        accountId: args.cloudflare.accountId,
        bucketName: bucket.name,
        rules: [
          {
            id: "expire-old-backups",
            enabled: true,
            conditions: { prefix: BACKUP_PREFIX },
            deleteObjectsTransition: { condition: { type: "Age", maxAge: retentionDays * 86_400 } },
            abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: 86_400 } },
          },
        ],
      },
      { parent: this, provider: args.cloudflare.provider },
    );
  }

  /**
   * An API token allowed object read/write on this bucket only. R2's S3 credential derives from it
   * (developers.cloudflare.com/r2/api/tokens): access key id = token id, secret access key = the
   * SHA-256 hex of the token value. Both stay Pulumi secrets.
   */
  private bucketCredential(args: BackupsArgs, bucket: cloudflare.R2Bucket): Backups["credentials"] {
    const token = new cloudflare.ApiToken(
      "bucket-token",
      {
        name: physicalName("backup-writer", args.stack),
        policies: [
          {
            effect: "allow",
            resources: bucket.name.apply((b) => JSON.stringify({ [`com.cloudflare.edge.r2.bucket.${args.cloudflare.accountId}_default_${b}`]: "*" })),
            permissionGroups: [{ id: BUCKET_OBJECT_WRITE_GROUP_ID }],
          },
        ],
        expiresOn: args.tokenExpiresOn,
        status: "active",
        ...(args.allowedCidrs?.length ? { condition: { requestIp: { ins: args.allowedCidrs } } } : {}),
      },
      { parent: this, provider: args.cloudflare.provider },
    );
    return {
      accessKeyId: pulumi.secret(token.id),
      secretAccessKey: pulumi.secret(token.value.apply((v) => createHash("sha256").update(v).digest("hex"))),
    };
  }

  /** The job: one long-running container that backs up on its own schedule and serves /metrics. */
  private jobContainer(
    args: BackupsArgs,
    bucket: cloudflare.R2Bucket,
    settings: { intervalMinutes: number; keep: number },
    after: pulumi.ResourceOptions["dependsOn"],
  ): docker.Container {
    const onHost = { parent: this, provider: args.docker };
    // Like the service images: the context holds only what the Dockerfile copies and the tag is its
    // digest, so a commit that leaves the backup and restore bundles alone leaves the job running.
    const dockerfile = join(args.repoRoot, "runtime", "influencer", "backup.Dockerfile");
    const image = serviceImage("image-backup", "backup", { artifactsDir: args.artifactsDir, dockerfile, platform: args.platform }, onHost);
    const env = {
      TWIST_ENV: args.stack,
      LOG_LEVEL: "info",
      BACKUP_S3_ENDPOINT: `https://${args.cloudflare.accountId}.r2.cloudflarestorage.com`,
      BACKUP_PREFIX,
      BACKUP_INTERVAL_SECONDS: String(settings.intervalMinutes * 60),
      BACKUP_KEEP: String(settings.keep),
      METRICS_PORT: String(BACKUP_METRICS_PORT),
    };
    return new docker.Container(
      "backup",
      {
        name: physicalName("backup", args.stack),
        image: image.repoDigest,
        entrypoints: SECRET_ENV_LOADER,
        command: ["node", "backup.js"],
        envs: pulumi.all([bucket.name]).apply(([b]) => [...Object.entries(env).map(([k, v]) => `${k}=${v}`), `BACKUP_BUCKET=${b}`]),
        uploads: secretFiles(
          {
            DATABASE_URL: args.databaseUrl,
            BACKUP_S3_ACCESS_KEY_ID: this.credentials.accessKeyId,
            BACKUP_S3_SECRET_ACCESS_KEY: this.credentials.secretAccessKey,
            BACKUP_ENCRYPTION_KEYS: args.encryptionKeys,
          },
          BACKUP_IMAGE_USER,
        ),
        // Data network: a Postgres container, and Prometheus scraping backup:9187. Egress: R2 and an external Postgres.
        networksAdvanced: [{ name: args.networks.data, aliases: ["backup"] }, { name: args.networks.egress }],
        healthcheck: {
          tests: ["CMD", "node", "-e", `fetch("http://127.0.0.1:${BACKUP_METRICS_PORT}/health").then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`],
          interval: "30s",
          timeout: "5s",
          retries: 3,
          startPeriod: "10s",
        },
        restart: "unless-stopped",
        labels: [
          { label: "twist.stack", value: args.stack },
          { label: "twist.role", value: "backup" },
        ],
      },
      { ...onHost, dependsOn: after },
    );
  }
}
