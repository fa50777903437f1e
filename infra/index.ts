// The TWIST stack graph: one program, two stacks (staging, production). Configuration is validated
// first (infra/config.ts), then one component per concern: the edge platform on Cloudflare, the
// backend on its VM (or VMs, twist:backend.hosts), backups and monitoring on the primary VM. The
// one API token a stack mints is the backup job's, scoped to its bucket's objects (docs/secrets.md).
// Run offline with `npm run plan`.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { join, resolve } from "node:path";
import { BackendHost, METRICS_PORTS, SETTLEMENT_METRICS_PORT } from "./components/backend";
import { BACKUP_METRICS_PORT, Backups } from "./components/backups";
import { EdgePlatform } from "./components/edge";
import { MONITORING_PORTS, Monitoring } from "./components/monitoring";
import { ZoneSecurity } from "./components/zone-security";
import { artifactsDirectory, loadStackConfig } from "./config";
import { physicalName } from "./naming";

const repoRoot = resolve(__dirname, "..");
const cfg = loadStackConfig();

// One explicit provider with no credential input: the provider process reads CLOUDFLARE_API_TOKEN
// from the environment the workflow gives it (the stack's deploy token for `up`, a read-only token
// for a pull request's preview: docs/secrets.md). So the token is in neither the stack config nor
// the state, which a preview decrypts with the staging passphrase.
if (!pulumi.runtime.isDryRun() && !process.env.CLOUDFLARE_API_TOKEN) {
  throw new Error("CLOUDFLARE_API_TOKEN is not set: export the stack's Cloudflare deploy token (docs/deploy.md, 2. Cloudflare)");
}
const cloudflareProvider = new cloudflare.Provider("cloudflare", {});

// Where the built bundles come from: this checkout's dist/, or (rollback) the bundles of an older
// commit built into another directory; the program, config and secrets stay the current ones.
const artifactsDir = artifactsDirectory(repoRoot);

const backend = new BackendHost("backend", {
  ...cfg.backend,
  stack: cfg.stack,
  repoRoot,
  artifactsDir,
  cloudflare: { accountId: cfg.cloudflare.accountId, zoneId: cfg.cloudflare.zoneId, provider: cloudflareProvider },
  secrets: cfg.secrets,
  extraIngress: [{ key: "grafana", hostname: cfg.operations.grafanaHostname, service: `http://grafana:${MONITORING_PORTS.grafana}` }],
});

// Backups and monitoring run on the primary host (hosts[0]), next to a Postgres container if there is one.
const primary = backend.nodes.hosts[0]!;

const backups = new Backups(
  "backups",
  {
    stack: cfg.stack,
    repoRoot,
    artifactsDir,
    platform: primary.vm.platform,
    cloudflare: { accountId: cfg.cloudflare.accountId, provider: cloudflareProvider },
    docker: primary.provider,
    networks: { data: primary.networks.data.name, egress: primary.networks.edge.name },
    databaseUrl: backend.databaseUrl,
    encryptionKeys: cfg.secrets.backupEncryptionKeys,
    ...cfg.backups,
    // The job reaches R2 from the primary's address: the token works from there only, when that is an IPv4 address.
    allowedCidrs: /^\d{1,3}(\.\d{1,3}){3}$/.test(primary.vm.host) ? [`${primary.vm.host}/32`] : [],
  },
  { dependsOn: [backend] },
);

// Prometheus scrapes the services' private metrics listeners (never routed by the tunnel) by their
// network aliases, which stay put when a deploy replaces a container. It sees the primary's data
// network only: other hosts' services are not scraped (docs/deploy.md, "Growing past one VM").
const containers = primary.containers;
new Monitoring("monitoring", {
  stack: cfg.stack,
  provider: primary.provider,
  networks: primary.networks,
  targets: {
    auth: [`auth:${METRICS_PORTS.auth}`],
    influencer: [`influencer:${METRICS_PORTS.influencer}`],
    settlement: [`settlement:${SETTLEMENT_METRICS_PORT}`],
    backup: [`backup:${BACKUP_METRICS_PORT}`],
  },
  dependsOn: [containers.auth, containers.influencer, containers.settlement, backups.container],
  grafana: { hostname: cfg.operations.grafanaHostname },
  cloudflareAccountId: cfg.cloudflare.accountId,
  secrets: { alertWebhookUrl: cfg.secrets.alertWebhookUrl, grafanaAdminPassword: cfg.secrets.grafanaAdminPassword, analyticsApiToken: cfg.secrets.analyticsApiToken },
});

const edge = new EdgePlatform(
  "edge",
  {
    stack: cfg.stack,
    accountId: cfg.cloudflare.accountId,
    zoneId: cfg.cloudflare.zoneId,
    hostname: cfg.edge.hostname,
    bundlePath: join(artifactsDir, "edge", "index.js"),
    vars: {
      ENVIRONMENT: cfg.stack,
      // The queue consumer delivers rewards to the influencer API through its public hostname.
      BACKEND_URL: `https://${cfg.backend.apiHostname}`,
      ...cfg.edge.vars,
      ...cfg.edge.optionalVars,
    },
    secrets: { JWT_KEYS: cfg.secrets.jwtKeys, VAU_SIGNING_KEYS: cfg.secrets.vauSigningKeys, SERVICE_SIGNING_KEYS: cfg.secrets.serviceSigningKeys },
  },
  { providers: { cloudflare: cloudflareProvider } },
);

new ZoneSecurity("zone-security", {
  stack: cfg.stack,
  accountId: cfg.cloudflare.accountId,
  zoneId: cfg.cloudflare.zoneId,
  edgeHostname: cfg.edge.hostname,
  grafanaHostname: cfg.operations.grafanaHostname,
  operatorEmails: cfg.operations.operatorEmails,
  ipRequestsPer10s: cfg.operations.edgeIpRateLimitPer10s,
  plan: cfg.operations.cloudflarePlan,
  provider: cloudflareProvider,
});

export const stack = cfg.stack;
export const commit = cfg.commit;
export const edgeUrl = edge.url;
export const workerName = edge.workerName;
export const workerBundleSha256 = edge.bundleSha256;
export const backendUrls = { auth: backend.authUrl, influencer: backend.influencerUrl };
export const imageTags = backend.imageTags;
export const tunnelName = physicalName("tunnel", cfg.stack);
/** Where backups are and the job's bucket credential (secret): what `npm run restore` needs off the VM. */
export const backupAccess = { endpoint: backups.endpoint, bucket: backups.bucketName, ...backups.credentials };
