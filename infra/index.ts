// The TWIST stack graph: one program, two stacks (staging, production). Configuration is validated
// first (infra/config.ts), then one component per concern: the edge platform on Cloudflare, the
// backend host on the VM, and the access tokens CI uses. Run offline with `npm run plan`.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { join, resolve } from "node:path";
import { AccessTokens } from "./components/access";
import { BackendHost, SERVICE_PORTS, SETTLEMENT_METRICS_PORT } from "./components/backend";
import { EdgePlatform } from "./components/edge";
import { MONITORING_PORTS, Monitoring } from "./components/monitoring";
import { ZoneSecurity } from "./components/zone-security";
import { loadStackConfig } from "./config";
import { physicalName } from "./naming";

const repoRoot = resolve(__dirname, "..");
const cfg = loadStackConfig();

// One explicit provider, so the token it runs with is a stack secret rather than ambient env.
const cloudflareProvider = new cloudflare.Provider("cloudflare", { apiToken: cfg.secrets.cloudflareApiToken });

const backend = new BackendHost("backend", {
  stack: cfg.stack,
  commit: cfg.commit,
  repoRoot,
  vm: cfg.backend.vm,
  cloudflare: { accountId: cfg.cloudflare.accountId, zoneId: cfg.cloudflare.zoneId, provider: cloudflareProvider },
  authHostname: cfg.backend.authHostname,
  apiHostname: cfg.backend.apiHostname,
  settings: {
    siwsChainId: cfg.backend.siwsChainId,
    siwsDomain: cfg.backend.siwsDomain,
    merchantDomains: cfg.backend.merchantDomains,
    trustedProxyHeader: cfg.backend.trustedProxyHeader,
    settlementAdapter: cfg.backend.settlementAdapter,
    solanaRpcUrl: cfg.backend.solanaRpcUrl,
    twistMint: cfg.backend.twistMint,
  },
  secrets: cfg.secrets,
  extraIngress: [{ key: "grafana", hostname: cfg.operations.grafanaHostname, service: `http://grafana:${MONITORING_PORTS.grafana}` }],
});

new Monitoring("monitoring", {
  stack: cfg.stack,
  provider: backend.provider,
  networks: backend.networks,
  targets: {
    auth: [pulumi.interpolate`${backend.containers.auth.name}:${SERVICE_PORTS.auth}`],
    influencer: [pulumi.interpolate`${backend.containers.influencer.name}:${SERVICE_PORTS.influencer}`],
    settlement: [pulumi.interpolate`${backend.containers.settlement.name}:${SETTLEMENT_METRICS_PORT}`],
  },
  dependsOn: Object.values(backend.containers),
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
    bundlePath: join(repoRoot, "dist", "edge", "index.js"),
    commit: cfg.commit,
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

const access = new AccessTokens("access", {
  stack: cfg.stack,
  accountId: cfg.cloudflare.accountId,
  zoneId: cfg.cloudflare.zoneId,
  expiresOn: cfg.access.tokenExpiry,
  allowedCidrs: cfg.access.allowedCidrs,
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
/** CI tokens (secret): `pulumi stack output ciTokens --show-secrets` feeds the repository secrets. */
export const ciTokens = pulumi.secret(pulumi.all(access.values));
