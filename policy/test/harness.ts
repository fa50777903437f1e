// Test harness in the compliance-policies style: a compliant baseline resource per type, and a
// helper that runs one policy over one resource (changed in one way) through the offline runner,
// i.e. the same code path `npm run plan` uses.
import * as cloudflare from "@pulumi/cloudflare";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { Rule } from "../lib/rule";
import { type PolicyConfig, type RecordedResource, runResourcePolicy, runStackPolicy } from "../offline";

export const ACCOUNT_ID = "0123456789abcdef0123456789abcdef";
export const ZONE_ID = "fedcba9876543210fedcba9876543210";

function typeOf(cls: unknown): string {
  return (cls as { __pulumiType: string }).__pulumiType;
}

export const TYPES = {
  workersScript: typeOf(cloudflare.WorkersScript),
  queue: typeOf(cloudflare.Queue),
  queueConsumer: typeOf(cloudflare.QueueConsumer),
  r2Bucket: typeOf(cloudflare.R2Bucket),
  r2ManagedDomain: typeOf(cloudflare.R2ManagedDomain),
  r2CustomDomain: typeOf(cloudflare.R2CustomDomain),
  apiToken: typeOf(cloudflare.ApiToken),
  accountToken: typeOf(cloudflare.AccountToken),
  container: typeOf(docker.Container),
  remoteImage: typeOf(docker.RemoteImage),
  image: typeOf(docker.Image),
  remoteCommand: typeOf(command.remote.Command),
  localCommand: typeOf(command.local.Command),
};

export function resource(type: string, name: string, inputs: Record<string, unknown>, stack = "production", extra: Partial<RecordedResource> = {}): RecordedResource {
  return { urn: `urn:pulumi:${stack}::twist::${type}::${name}`, type, name, inputs, secretPaths: [], dependencies: [], ...extra };
}

/** Messages a resource policy reports for one resource of `type` with `inputs`. */
export async function check(
  rule: Rule<ResourceValidationPolicy>,
  type: string,
  inputs: Record<string, unknown>,
  { stack = "production", config }: { stack?: string; config?: PolicyConfig } = {},
): Promise<string[]> {
  const found = await runResourcePolicy(rule.policy, resource(type, "subject", inputs, stack), { stack, ...(config ? { config } : {}) });
  return found.map((v) => v.message);
}

/** Messages a stack policy reports for a whole stack. */
export async function checkStack(
  rule: Rule<StackValidationPolicy>,
  resources: RecordedResource[],
  { stack = "production", config }: { stack?: string; config?: PolicyConfig } = {},
): Promise<string[]> {
  const found = await runStackPolicy(rule.policy, resources, { stack, ...(config ? { config } : {}) });
  return found.map((v) => v.message);
}

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

// ---- compliant baselines: each test changes one thing -------------------------------------------

export function baselineWorker(): Record<string, unknown> {
  return {
    accountId: ACCOUNT_ID,
    scriptName: "twist-vau-production",
    mainModule: "index.js",
    content: "export default {}",
    compatibilityDate: "2025-09-01",
    bindings: [
      { type: "plain_text", name: "TWIST_ENV", text: "production" },
      { type: "plain_text", name: "BACKEND_URL", text: "https://api.twist.example/internal/v1/rewards" },
      { type: "secret_text", name: "JWT_KEYS", text: "k1:c2VjcmV0LXZhbHVlLW5vdC1wbGFpbg" },
      { type: "kv_namespace", name: "DEVICES", namespaceId: "kv-id" },
      { type: "r2_bucket", name: "AUDIT", bucketName: "twist-audit-production" },
      { type: "queue", name: "REWARDS", queueName: "twist-rewards-production" },
      { type: "queue", name: "REWARDS_DLQ", queueName: "twist-rewards-dlq-production" },
      { type: "durable_object_namespace", name: "RATE_LIMITER", className: "RateLimiter" },
      { type: "durable_object_namespace", name: "DEDUPE", className: "VauDedupe" },
    ],
    migrations: { newTag: "v1", newSqliteClasses: ["RateLimiter", "VauDedupe"] },
  };
}

export function baselineConsumer(): Record<string, unknown> {
  return {
    accountId: ACCOUNT_ID,
    queueId: "queue-id-rewards",
    scriptName: "twist-vau-production",
    type: "worker",
    deadLetterQueue: "twist-rewards-dlq-production",
    settings: { batchSize: 50, maxRetries: 5, maxWaitTimeMs: 5000, retryDelay: 30 },
  };
}

export function baselineToken(): Record<string, unknown> {
  return {
    name: "twist-ci-production",
    policies: [
      {
        effect: "allow",
        permissionGroups: [{ id: "e086da7e2179491d91ee5f35b3ca210a" }, { id: "f7f0eda5697f475c90846e879bab8666" }],
        resources: JSON.stringify({ [`com.cloudflare.api.account.${ACCOUNT_ID}`]: "*" }),
      },
    ],
    expiresOn: inDays(90),
    condition: { requestIp: { ins: ["203.0.113.0/24"] } },
  };
}

export function baselineContainer(): Record<string, unknown> {
  return {
    name: "twist-auth-production",
    image: "ghcr.io/twist/auth:3f2c1a9",
    envs: ["TWIST_ENV=production", "PORT=3001", "REDIS_PREFIX=twist:", "JWT_KEYS_FILE=/run/secrets/jwt_keys"],
    command: ["node", "main.js"],
    networksAdvanced: [{ name: "twist-production" }],
    uploads: [{ file: "/run/secrets/jwt_keys", content: "k1:secret-from-config" }],
    restart: "unless-stopped",
  };
}

export function baselineDatastore(): Record<string, unknown> {
  return {
    name: "twist-postgres-production",
    image: "postgres:16.4-alpine",
    envs: ["POSTGRES_USER=twist", "POSTGRES_DB=twist", "POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password"],
    networksAdvanced: [{ name: "twist-production" }],
    volumes: [{ volumeName: "twist-pgdata-production", containerPath: "/var/lib/postgresql/data" }],
  };
}

export function baselineCommand(): Record<string, unknown> {
  return {
    connection: { host: "203.0.113.10", user: "deploy" },
    create: "mkdir -p /opt/twist && chmod 700 /opt/twist",
    environment: { TWIST_ENV: "production", COMPOSE_PROJECT_NAME: "twist" },
  };
}
