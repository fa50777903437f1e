// The TWIST stack graph: one program, two stacks (staging, production). Configuration is validated
// first (infra/config.ts), then one component per concern: the edge platform on Cloudflare, the
// backend host on the VM. No stack mints API tokens: the only Cloudflare credential is each stack's
// own bootstrap token (docs/secrets.md). Run offline with `npm run plan`.
import * as cloudflare from "@pulumi/cloudflare";
import { join, resolve } from "node:path";
import { BackendHost } from "./components/backend";
import { EdgePlatform } from "./components/edge";
import { artifactsDirectory, loadStackConfig } from "./config";
import { physicalName } from "./naming";

const repoRoot = resolve(__dirname, "..");
const cfg = loadStackConfig();

// One explicit provider, so the token it runs with is a stack secret rather than ambient env.
const cloudflareProvider = new cloudflare.Provider("cloudflare", { apiToken: cfg.secrets.cloudflareApiToken });

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

export const stack = cfg.stack;
export const commit = cfg.commit;
export const edgeUrl = edge.url;
export const workerName = edge.workerName;
export const workerBundleSha256 = edge.bundleSha256;
export const backendUrls = { auth: backend.authUrl, influencer: backend.influencerUrl };
export const imageTags = backend.imageTags;
export const tunnelName = physicalName("tunnel", cfg.stack);
