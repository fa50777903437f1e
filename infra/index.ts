// The TWIST stack graph: one program, two stacks (staging, production). Configuration is validated
// first (infra/config.ts), then one component per concern: the edge platform on Cloudflare, the
// backend host on the VM, and the access tokens CI uses. Run offline with `npm run plan`.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { join, resolve } from "node:path";
import { AccessTokens } from "./components/access";
import { BackendHost } from "./components/backend";
import { Backups } from "./components/backups";
import { EdgePlatform } from "./components/edge";
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
});

const backups = new Backups(
  "backups",
  {
    stack: cfg.stack,
    commit: cfg.commit,
    repoRoot,
    platform: cfg.backend.vm.platform,
    cloudflare: { accountId: cfg.cloudflare.accountId, provider: cloudflareProvider },
    docker: backend.provider,
    networks: { data: physicalName("data", cfg.stack), egress: physicalName("edge", cfg.stack) },
    database: { host: "postgres", port: 5432, name: "twist", user: "twist", password: cfg.secrets.postgresPassword },
    encryptionKeys: cfg.secrets.backupEncryptionKeys,
    ...cfg.backups,
    tokenExpiresOn: cfg.access.tokenExpiry,
    allowedCidrs: /^\d{1,3}(\.\d{1,3}){3}$/.test(cfg.backend.vm.host) ? [`${cfg.backend.vm.host}/32`] : [],
  },
  { dependsOn: [backend] },
);

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
/** Where backups are and the job's bucket credential (secret): what `npm run restore` needs off the VM. */
export const backupAccess = { endpoint: backups.endpoint, bucket: backups.bucketName, ...backups.credentials };
/** CI tokens (secret): `pulumi stack output ciTokens --show-secrets` feeds the repository secrets. */
export const ciTokens = pulumi.secret(pulumi.all(access.values));
