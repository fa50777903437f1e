// BackendHost: the services on one VM with Docker, reached over SSH. Postgres and Redis sit on an
// internal network with no published ports; auth and influencer are reachable from the internet
// only through a Cloudflare Tunnel (cloudflared dials out, nothing listens on the VM's public
// interface).
//
// Secrets reach containers as files, never as env or command-line values: each is a container
// `uploads` entry (/run/secrets/<NAME>, mode 0400, owned by the image's runtime user) whose content
// is the Pulumi secret, so it is encrypted in state, masked in previews and absent from
// `docker inspect`. Postgres reads POSTGRES_PASSWORD_FILE, Redis a config file, cloudflared
// --token-file; the Node services start through a two-line loader that exports each file as the
// environment variable of the same name before exec'ing node, so they keep reading plain env.
import * as cloudflare from "@pulumi/cloudflare";
import { remote } from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceSettings } from "../config";
import { physicalName } from "../naming";

/** Third-party images, pinned. Bump deliberately; the tag is the version that deploys. */
export const PINNED_IMAGES = {
  postgres: "postgres:16.6-alpine",
  redis: "redis:7.4.2-alpine",
  // --token-file (the tunnel token as a file) needs 2025.4.0 or later.
  cloudflared: "cloudflare/cloudflared:2025.4.0",
} as const;

export const SERVICE_PORTS = { auth: 3001, influencer: 3003 } as const;

export interface BackendSecrets {
  jwtKeys: pulumi.Output<string>;
  serviceSigningKeys: pulumi.Output<string>;
  merchantSigningKeys: pulumi.Output<string>;
  ipHashSalt: pulumi.Output<string>;
  postgresPassword: pulumi.Output<string>;
  redisPassword: pulumi.Output<string>;
  vmSshPrivateKey: pulumi.Output<string>;
  tunnelSecret: pulumi.Output<string>;
  solanaPayerSecretKey?: pulumi.Output<string>;
}

export interface BackendHostArgs {
  stack: string;
  commit: string;
  /** Repository root: docker build context (each Dockerfile copies dist/<service>/). */
  repoRoot: string;
  vm: { host: string; user: string; port: number; hostKey: string; platform: string };
  cloudflare: { accountId: string; zoneId: string; provider: cloudflare.Provider };
  authHostname: string;
  apiHostname: string;
  /** Plain settings of the services (non-secret). */
  settings: ServiceSettings;
  secrets: BackendSecrets;
}

/**
 * The docker CLI's ssh transport needs the key as a file. It is written with mode 0600 into a private
 * temporary directory of the machine running Pulumi and removed when the process exits; only its
 * path (not a secret) goes into the provider's inputs.
 */
/**
 * One exit hook per folder for the whole process. Kept on a global: offline evaluations re-import
 * this module for every run, and a listener per run would pile up.
 */
function removeOnExit(dir: string): void {
  const key = Symbol.for("twist.infra.removeOnExit");
  const registry = globalThis as unknown as Record<symbol, Set<string> | undefined>;
  const dirs = (registry[key] ??= new Set<string>());
  if (dirs.has(dir)) return;
  dirs.add(dir);
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
}

function sshMaterialFiles(stack: string, privateKey: pulumi.Output<string>, knownHostsLine: string): pulumi.Output<{ keyPath: string; knownHostsPath: string }> {
  const files = privateKey.apply((key) => {
    // A fixed per-stack, per-user path: the provider's inputs stay the same from run to run.
    const dir = join(tmpdir(), `twist-ssh-${stack}-${process.getuid?.() ?? "user"}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const keyPath = join(dir, "id");
    const knownHostsPath = join(dir, "known_hosts");
    writeFileSync(keyPath, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600 });
    writeFileSync(knownHostsPath, `${knownHostsLine}\n`, { mode: 0o600 });
    removeOnExit(dir);
    return { keyPath, knownHostsPath };
  });
  return pulumi.unsecret(files);
}

/** Plain `KEY=value` entries for a container; only non-secret values belong here. */
function envList(env: Record<string, string | undefined>): string[] {
  return Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
}

export const SECRETS_DIR = "/run/secrets";

/** One read-only file per secret, owned by the user the image runs as. */
export function secretFiles(files: Record<string, pulumi.Input<string> | undefined>, uid: string, gid = uid): docker.types.input.ContainerUpload[] {
  return Object.entries(files)
    .filter((e): e is [string, pulumi.Input<string>] => e[1] !== undefined)
    .map(([name, content]) => ({ file: `${SECRETS_DIR}/${name}`, content: pulumi.secret(content), permissions: "0400", owner: uid, group: gid }));
}

/** Exports every file of /run/secrets as the variable of the same name, then runs the command. */
export const SECRET_ENV_LOADER = [
  "/bin/sh",
  "-c",
  `for f in ${SECRETS_DIR}/*; do [ -f "$f" ] && export "$(basename "$f")=$(cat "$f")"; done; exec "$@"`,
  "twist-secrets",
];

/** Runtime users of the images (uid, gid): the files must be readable after privileges drop. */
const IMAGE_USERS = { node: ["1000", "1000"], postgres: ["70", "70"], redis: ["999", "1000"], cloudflared: ["65532", "65532"] } as const;

export class BackendHost extends pulumi.ComponentResource {
  readonly authUrl: pulumi.Output<string>;
  readonly influencerUrl: pulumi.Output<string>;
  readonly imageTags: { auth: pulumi.Output<string>; influencer: pulumi.Output<string> };
  readonly provider: docker.Provider;
  readonly postgres: docker.Container;
  readonly redis: docker.Container;
  readonly migration: docker.Container;
  readonly containers: Record<"auth" | "influencer" | "settlement" | "cloudflared", docker.Container>;

  constructor(name: string, args: BackendHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("twist:backend:BackendHost", name, {}, opts);
    const { stack, vm, secrets } = args;
    const n = (logical: string) => physicalName(logical, stack);
    const hostKey = vm.hostKey.split(/\s+/).slice(1).join(" ");

    // Host preparation the docker provider cannot express: refuse to continue unless the VM answers
    // with a working Docker engine for this user, and create the stack's state directory.
    const prepare = new remote.Command(
      "prepare-host",
      {
        connection: { host: vm.host, port: vm.port, user: vm.user, privateKey: secrets.vmSshPrivateKey, hostKey },
        create: [
          "set -eu",
          'command -v docker >/dev/null || { echo "docker is not installed on the VM" >&2; exit 1; }',
          'docker info --format "{{.ServerVersion}}" >/dev/null || { echo "user cannot reach the docker daemon (add it to the docker group)" >&2; exit 1; }',
          `mkdir -p "$HOME/${n("state")}" && chmod 700 "$HOME/${n("state")}"`,
          'docker info --format "docker {{.ServerVersion}} on {{.OperatingSystem}} {{.Architecture}}"',
        ].join("\n"),
        triggers: [vm.host, vm.user],
      },
      { parent: this },
    );

    const ssh = sshMaterialFiles(stack, secrets.vmSshPrivateKey, vm.hostKey);
    this.provider = new docker.Provider(
      "docker",
      {
        host: `ssh://${vm.user}@${vm.host}:${vm.port}`,
        sshOpts: ssh.apply((f) => ["-i", f.keyPath, "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${f.knownHostsPath}`]),
      },
      { parent: this, dependsOn: [prepare] },
    );
    const onHost = { parent: this, provider: this.provider };

    // Data network is internal (no route to the internet); services join both.
    const dataNet = new docker.Network("net-data", { name: n("data"), driver: "bridge", internal: true }, onHost);
    const edgeNet = new docker.Network("net-edge", { name: n("edge"), driver: "bridge" }, onHost);
    const pgData = new docker.Volume("vol-pgdata", { name: n("pgdata") }, { ...onHost, retainOnDelete: true });
    const redisData = new docker.Volume("vol-redisdata", { name: n("redisdata") }, onHost);

    const pull = (key: keyof typeof PINNED_IMAGES) =>
      new docker.RemoteImage(`image-${key}`, { name: PINNED_IMAGES[key], platform: vm.platform, keepLocally: true }, onHost);
    const postgresImage = pull("postgres");
    const redisImage = pull("redis");
    const cloudflaredImage = pull("cloudflared");

    const build = (service: "auth" | "influencer") =>
      new docker.Image(
        `image-${service}`,
        {
          imageName: `twist-${service}:${args.commit}`,
          build: { context: args.repoRoot, dockerfile: join(args.repoRoot, "runtime", service, "Dockerfile"), platform: vm.platform },
          skipPush: true,
          buildOnPreview: false,
        },
        onHost,
      );
    const authImage = build("auth");
    const influencerImage = build("influencer");
    this.imageTags = { auth: authImage.imageName, influencer: influencerImage.imageName };

    const labels = (role: string) => [
      { label: "twist.stack", value: stack },
      { label: "twist.role", value: role },
      { label: "twist.commit", value: args.commit },
    ];

    this.postgres = new docker.Container(
      "postgres",
      {
        name: n("postgres"),
        image: postgresImage.imageId,
        envs: envList({ POSTGRES_USER: "twist", POSTGRES_DB: "twist", POSTGRES_PASSWORD_FILE: `${SECRETS_DIR}/POSTGRES_PASSWORD` }),
        uploads: secretFiles({ POSTGRES_PASSWORD: secrets.postgresPassword }, ...IMAGE_USERS.postgres),
        volumes: [{ volumeName: pgData.name, containerPath: "/var/lib/postgresql/data" }],
        networksAdvanced: [{ name: dataNet.name, aliases: ["postgres"] }],
        healthcheck: { tests: ["CMD-SHELL", "pg_isready -U twist -d twist"], interval: "10s", timeout: "5s", retries: 6, startPeriod: "20s" },
        restart: "unless-stopped",
        wait: true,
        waitTimeout: 120,
        labels: labels("postgres"),
      },
      onHost,
    );

    this.redis = new docker.Container(
      "redis",
      {
        name: n("redis"),
        image: redisImage.imageId,
        // requirepass lives in an uploaded config file, so the password is in no command line.
        command: ["redis-server", `${SECRETS_DIR}/redis.conf`],
        uploads: secretFiles(
          {
            "redis.conf": pulumi.interpolate`requirepass ${secrets.redisPassword}\nappendonly yes\nmaxmemory-policy noeviction\n`,
            REDIS_PASSWORD: secrets.redisPassword,
          },
          ...IMAGE_USERS.redis,
        ),
        volumes: [{ volumeName: redisData.name, containerPath: "/data" }],
        networksAdvanced: [{ name: dataNet.name, aliases: ["redis"] }],
        healthcheck: { tests: ["CMD-SHELL", `REDISCLI_AUTH="$(cat ${SECRETS_DIR}/REDIS_PASSWORD)" redis-cli ping | grep -q PONG`], interval: "10s", timeout: "5s", retries: 6 },
        restart: "unless-stopped",
        wait: true,
        waitTimeout: 60,
        labels: labels("redis"),
      },
      onHost,
    );

    const databaseUrl = pulumi.interpolate`postgres://twist:${secrets.postgresPassword.apply(encodeURIComponent)}@postgres:5432/twist`;
    const redisUrl = pulumi.interpolate`redis://:${secrets.redisPassword.apply(encodeURIComponent)}@redis:6379/0`;
    const commonEnv = { TWIST_ENV: stack, LOG_LEVEL: "info", TRUSTED_PROXY_HEADER: args.settings.trustedProxyHeader };
    const commonSecrets = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, JWT_KEYS: secrets.jwtKeys, IP_HASH_SALT: secrets.ipHashSalt };
    const influencerEnv = envList({
      ...commonEnv,
      PORT: String(SERVICE_PORTS.influencer),
      REDIS_PREFIX: "twist:influencer:",
      MERCHANT_DOMAINS: args.settings.merchantDomains,
      PUBLIC_BASE_URL: `https://${args.apiHostname}`,
      SETTLEMENT_ADAPTER: args.settings.settlementAdapter,
      SOLANA_RPC_URL: args.settings.solanaRpcUrl,
      TWIST_MINT: args.settings.twistMint,
    });
    const influencerSecrets = secretFiles(
      {
        ...commonSecrets,
        SERVICE_SIGNING_KEYS: secrets.serviceSigningKeys,
        MERCHANT_SIGNING_KEYS: secrets.merchantSigningKeys,
        SOLANA_PAYER_SECRET_KEY: secrets.solanaPayerSecretKey,
      },
      ...IMAGE_USERS.node,
    );

    // One-shot migration: attach=true makes the provider wait for the container to exit; the API
    // container's inputs depend on its exit code, so a failed migration stops the deploy before the
    // new API starts.
    this.migration = new docker.Container(
      "migrate",
      {
        name: n("migrate"),
        image: influencerImage.imageName,
        entrypoints: SECRET_ENV_LOADER,
        command: ["node", "migrate.js"],
        envs: envList({ TWIST_ENV: stack, LOG_LEVEL: "info" }),
        uploads: secretFiles({ DATABASE_URL: databaseUrl }, ...IMAGE_USERS.node),
        networksAdvanced: [{ name: dataNet.name }],
        attach: true,
        logs: true,
        mustRun: false,
        restart: "no",
        labels: labels("migration"),
      },
      { ...onHost, dependsOn: [this.postgres], replaceOnChanges: ["*"], deleteBeforeReplace: true },
    );
    const migrated = this.migration.exitCode.apply((code) => {
      if (code !== 0 && code !== undefined && code !== null) throw new Error(`migration container ${n("migrate")} exited with ${code}; the API was not started`);
      return args.commit;
    });

    const serviceContainer = (key: "auth" | "influencer" | "settlement", spec: {
      image: pulumi.Input<string>;
      command: string[];
      envs: string[];
      uploads: docker.types.input.ContainerUpload[];
      port?: number;
      alias: string;
      dependsOn: pulumi.Resource[];
      extraLabels?: { label: string; value: pulumi.Input<string> }[];
    }) =>
      new docker.Container(
        key,
        {
          name: n(key),
          image: spec.image,
          entrypoints: SECRET_ENV_LOADER,
          command: spec.command,
          envs: spec.envs,
          uploads: spec.uploads,
          networksAdvanced: [{ name: dataNet.name }, { name: edgeNet.name, aliases: [spec.alias] }],
          ...(spec.port
            ? {
                healthcheck: {
                  tests: ["CMD", "node", "-e", `fetch("http://127.0.0.1:${spec.port}/health").then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`],
                  interval: "15s",
                  timeout: "5s",
                  retries: 4,
                  startPeriod: "20s",
                },
                wait: true,
                waitTimeout: 120,
              }
            : {}),
          restart: "unless-stopped",
          labels: [...labels(key), ...(spec.extraLabels ?? [])],
        },
        { ...onHost, dependsOn: spec.dependsOn },
      );

    const auth = serviceContainer("auth", {
      image: authImage.imageName,
      command: ["node", "main.js"],
      envs: envList({
        ...commonEnv,
        PORT: String(SERVICE_PORTS.auth),
        REDIS_PREFIX: "twist:auth:",
        SIWS_DOMAIN: args.settings.siwsDomain,
        SIWS_URI: `https://${args.settings.siwsDomain}`,
        SIWS_CHAIN_ID: args.settings.siwsChainId,
      }),
      uploads: secretFiles(commonSecrets, ...IMAGE_USERS.node),
      port: SERVICE_PORTS.auth,
      alias: "auth",
      dependsOn: [this.postgres, this.redis],
    });
    const influencer = serviceContainer("influencer", {
      image: influencerImage.imageName,
      command: ["node", "main.js"],
      envs: influencerEnv,
      uploads: influencerSecrets,
      port: SERVICE_PORTS.influencer,
      alias: "influencer",
      dependsOn: [this.migration, this.postgres, this.redis],
      extraLabels: [{ label: "twist.migrated-by", value: migrated }],
    });
    const settlement = serviceContainer("settlement", {
      image: influencerImage.imageName,
      command: ["node", "worker.js"],
      envs: influencerEnv,
      uploads: influencerSecrets,
      alias: "settlement",
      dependsOn: [this.migration, this.postgres, this.redis],
      extraLabels: [{ label: "twist.migrated-by", value: migrated }],
    });

    // Public access: a remotely managed Cloudflare Tunnel. cloudflared connects out to Cloudflare and
    // forwards the two public hostnames to the services on the edge network.
    const cfOpts = { parent: this, provider: args.cloudflare.provider };
    const tunnel = new cloudflare.ZeroTrustTunnelCloudflared(
      "tunnel",
      { accountId: args.cloudflare.accountId, name: n("tunnel"), configSrc: "cloudflare", tunnelSecret: secrets.tunnelSecret },
      cfOpts,
    );
    new cloudflare.ZeroTrustTunnelCloudflaredConfig(
      "tunnel-config",
      {
        accountId: args.cloudflare.accountId,
        tunnelId: tunnel.id,
        config: {
          ingresses: [
            { hostname: args.authHostname, service: `http://auth:${SERVICE_PORTS.auth}` },
            { hostname: args.apiHostname, service: `http://influencer:${SERVICE_PORTS.influencer}` },
            { service: "http_status:404" },
          ],
        },
      },
      cfOpts,
    );
    for (const [key, hostname] of [["auth", args.authHostname], ["api", args.apiHostname]] as const) {
      new cloudflare.DnsRecord(
        `dns-${key}`,
        { zoneId: args.cloudflare.zoneId, name: hostname, type: "CNAME", content: pulumi.interpolate`${tunnel.id}.cfargotunnel.com`, proxied: true, ttl: 1, comment: `twist ${stack} tunnel` },
        cfOpts,
      );
    }
    const tunnelToken = cloudflare
      .getZeroTrustTunnelCloudflaredTokenOutput({ accountId: args.cloudflare.accountId, tunnelId: tunnel.id }, { parent: this, provider: args.cloudflare.provider })
      .apply((r) => r.token);
    const cloudflared = new docker.Container(
      "cloudflared",
      {
        name: n("cloudflared"),
        image: cloudflaredImage.imageId,
        command: ["tunnel", "--no-autoupdate", "run", "--token-file", `${SECRETS_DIR}/TUNNEL_TOKEN`],
        uploads: secretFiles({ TUNNEL_TOKEN: tunnelToken }, ...IMAGE_USERS.cloudflared),
        networksAdvanced: [{ name: edgeNet.name }],
        restart: "unless-stopped",
        labels: labels("cloudflared"),
      },
      { ...onHost, dependsOn: [auth, influencer] },
    );

    this.containers = { auth, influencer, settlement, cloudflared };
    this.authUrl = pulumi.output(`https://${args.authHostname}`);
    this.influencerUrl = pulumi.output(`https://${args.apiHostname}`);
    this.registerOutputs({ authUrl: this.authUrl, influencerUrl: this.influencerUrl, imageTags: this.imageTags });
  }
}
