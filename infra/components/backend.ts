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
//
// What a deploy changes (infra/offline/force-new.ts lists the provider's ForceNew properties):
// nearly every docker_container property is ForceNew, so a container is replaced whenever any of
// its inputs changes. Hence no input of Postgres, Redis or cloudflared depends on the commit, and
// the app containers take their image by ID (a rebuild of unchanged bundles yields the same ID).
// App containers are replaced create-before-delete: the new one gets a new name, joins the same
// network alias the tunnel resolves, must pass its healthcheck (`wait`) before the old one goes.
import * as cloudflare from "@pulumi/cloudflare";
import { remote } from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { StackConfig } from "../config";
import { physicalName } from "../naming";

/** Third-party images, pinned. Bump deliberately; the tag is the version that deploys. */
export const PINNED_IMAGES = {
  postgres: "postgres:16.6-alpine",
  redis: "redis:7.4.2-alpine",
  // --token-file (the tunnel token as a file) needs 2025.4.0 or later.
  cloudflared: "cloudflare/cloudflared:2025.4.0",
} as const;

export const SERVICE_PORTS = { auth: 3001, influencer: 3003 } as const;
/** Private /metrics listeners (METRICS_PORT): reachable on the container networks, never a tunnel ingress. */
export const METRICS_PORTS = { auth: 9101, influencer: 9103 } as const;
/** The settlement worker's /health, /ready and /metrics (WORKER_METRICS_PORT's default). */
export const SETTLEMENT_METRICS_PORT = 3004;
export const SECRETS_DIR = "/run/secrets";

export interface BackendSecrets {
  jwtKeys: pulumi.Output<string>;
  serviceSigningKeys: pulumi.Output<string>;
  merchantSigningKeys: pulumi.Output<string>;
  ipHashSalt: pulumi.Output<string>;
  postgresPassword: pulumi.Output<string>;
  redisPassword: pulumi.Output<string>;
  /** Used by the host-preparation and migration commands (kept encrypted in their state, so refresh and destroy have it). */
  vmSshPrivateKey: pulumi.Output<string>;
  tunnelSecret: pulumi.Output<string>;
  /** SMTP_PASSWORD of the verification mail relay. */
  smtpPassword: pulumi.Output<string>;
  solanaPayerSecretKey?: pulumi.Output<string>;
}

type ServiceImage = "auth" | "influencer" | "migrate";
type AppContainer = "auth" | "influencer" | "settlement";

/**
 * The stack's `backend` config as infra/config.ts validates it (hostnames, VM, service settings;
 * the defaults of each key are in PLAIN_KEYS there), plus what the program adds.
 */
export interface BackendHostArgs extends Readonly<StackConfig["backend"]> {
  /** Stack name; every physical name ends in it. Required. */
  stack: string;
  /** Repository root: the Dockerfiles live in runtime/<service>/. Required. */
  repoRoot: string;
  /**
   * Directory holding the built bundles `auth/` and `influencer/` (each image's whole build
   * context). Default: `<repoRoot>/dist`. A rollback points it at the bundles of an older commit.
   */
  artifactsDir?: string;
  /** Account and zone of the tunnel and its DNS records, and the provider to manage them with. Required. */
  cloudflare: { accountId: string; zoneId: string; provider: cloudflare.Provider };
  /** Required; `solanaPayerSecretKey` only with the solana settlement adapter. */
  secrets: BackendSecrets;
  /** Changes a container's args before it is created (SST's transform). Default: none. */
  transform?: { container?: (name: string, args: docker.ContainerArgs) => void };
  /** More public hostnames the tunnel forwards (e.g. Grafana, behind Access), with a DNS record each. Default: none. */
  extraIngress?: { key: string; hostname: string; service: string }[];
}

/** What the component created (SST's `nodes`). Other components attach to `provider` and `networks`. */
export interface BackendNodes {
  provider: docker.Provider;
  networks: { data: docker.Network; edge: docker.Network };
  volumes: { pgdata: docker.Volume; redisdata: docker.Volume };
  images: { postgres: docker.RemoteImage; redis: docker.RemoteImage; cloudflared: docker.RemoteImage; auth: docker.Image; influencer: docker.Image; migrate: docker.Image };
  postgres: docker.Container;
  redis: docker.Container;
  migration: remote.Command;
  containers: Record<AppContainer | "cloudflared", docker.Container>;
  tunnel: cloudflare.ZeroTrustTunnelCloudflared;
}

/** Plain `KEY=value` entries for a container; only non-secret values belong here. */
function envList(env: Record<string, string | undefined>): string[] {
  return Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
}

/** One read-only file per secret, owned by the user the image runs as. */
export function secretFiles(files: Record<string, pulumi.Input<string> | undefined>, [uid, gid]: readonly [string, string]): docker.types.input.ContainerUpload[] {
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

/**
 * sha256 over a build context (or the files of it that the Dockerfile copies) and its Dockerfile: the tag of a service image. Unchanged bundles
 * give the same tag, so a commit that does not touch a service leaves its image and containers alone.
 */
export function contextDigest(contextDir: string, dockerfile: string, only?: string[]): string {
  if (!existsSync(contextDir)) throw new Error(`build context ${contextDir} does not exist: run \`npm run build\` first`);
  const hash = createHash("sha256").update(readFileSync(dockerfile));
  const files = readdirSync(contextDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile() && (!only || only.includes(f.name)));
  for (const file of files.map((f) => join(f.parentPath, f.name)).sort()) {
    hash.update(relative(contextDir, file)).update("\0").update(readFileSync(file));
  }
  return hash.digest("hex");
}

/**
 * Known-hosts line for ssh's KnownHostsCommand, keyed as ssh looks the host up (`[host]:port`
 * off port 22). The host key is plain config; nothing is written to disk, so `pulumi refresh` and
 * `pulumi destroy` work in any later process that has the key in ssh-agent.
 */
function knownHostsEntry(vm: BackendHostArgs["vm"]): string {
  const key = vm.hostKey.split(/\s+/).slice(1).join(" ");
  return `${vm.port === 22 ? vm.host : `[${vm.host}]:${vm.port}`} ${key}`;
}

export class BackendHost extends pulumi.ComponentResource {
  readonly nodes: BackendNodes;
  readonly authUrl: pulumi.Output<string>;
  readonly influencerUrl: pulumi.Output<string>;
  readonly imageTags: { auth: pulumi.Output<string>; influencer: pulumi.Output<string> };

  constructor(name: string, args: BackendHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("twist:backend:BackendHost", name, {}, opts);
    const { stack, vm, secrets } = args;
    const n = (logical: string) => physicalName(logical, stack);
    const ssh: remote.CommandArgs["connection"] = { host: vm.host, port: vm.port, user: vm.user, privateKey: secrets.vmSshPrivateKey, hostKey: vm.hostKey.split(/\s+/).slice(1).join(" ") };
    const transform = (key: string, c: docker.ContainerArgs) => (args.transform?.container?.(key, c), c);
    const child = { parent: this };

    const prepare = prepareHost();
    const provider = createDockerProvider(prepare);
    const onHost = { parent: this, provider };
    const networks = createNetworks();
    const volumes = createVolumes();
    const pulled = pullPinnedImages();
    const built = buildServiceImages();
    const postgres = runPostgres();
    const redis = runRedis();
    const urls = connectionUrls();
    const migration = runMigration();
    const auth = runAuth();
    const influencer = runInfluencer("influencer", ["node", "main.js"]);
    const settlement = runInfluencer("settlement", ["node", "worker.js"]);
    const { tunnel, cloudflared } = publishThroughTunnel();

    this.nodes = {
      provider,
      networks,
      volumes,
      images: { ...pulled, ...built },
      postgres,
      redis,
      migration,
      containers: { auth, influencer, settlement, cloudflared },
      tunnel,
    };
    this.imageTags = { auth: built.auth.imageName, influencer: built.influencer.imageName };
    this.authUrl = pulumi.output(`https://${args.authHostname}`);
    this.influencerUrl = pulumi.output(`https://${args.apiHostname}`);
    this.registerOutputs({ authUrl: this.authUrl, influencerUrl: this.influencerUrl, imageTags: this.imageTags });

    /** Refuses to continue unless the VM answers with a working Docker engine for this user; creates the state directory. */
    function prepareHost() {
      return new remote.Command(
        "prepare-host",
        {
          connection: ssh,
          create: [
            "set -eu",
            'command -v docker >/dev/null || { echo "docker is not installed on the VM" >&2; exit 1; }',
            'docker info --format "{{.ServerVersion}}" >/dev/null || { echo "user cannot reach the docker daemon (add it to the docker group)" >&2; exit 1; }',
            `mkdir -p "$HOME/${n("state")}" && chmod 700 "$HOME/${n("state")}"`,
            'docker info --format "docker {{.ServerVersion}} on {{.OperatingSystem}} {{.Architecture}}"',
          ].join("\n"),
          triggers: [vm.host, vm.user],
        },
        child,
      );
    }

    /**
     * The docker CLI's ssh transport authenticates with the keys in ssh-agent (SSH_AUTH_SOCK): the
     * deploy workflow loads the stack's vmSshPrivateKey into an agent, a laptop runs `ssh-add`
     * (docs/deploy.md). No key file exists, so nothing has to outlive the program.
     */
    function createDockerProvider(after: pulumi.Resource) {
      if (!pulumi.runtime.isDryRun() && !process.env.SSH_AUTH_SOCK) {
        throw new Error(`the docker provider reaches ${vm.host} over ssh with the key in ssh-agent, and SSH_AUTH_SOCK is not set: load it with \`pulumi config get twist:vmSshPrivateKey | ssh-add -\` (docs/deploy.md)`);
      }
      return new docker.Provider(
        "docker",
        {
          host: `ssh://${vm.user}@${vm.host}:${vm.port}`,
          sshOpts: ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/dev/null", "-o", `KnownHostsCommand=/bin/echo ${knownHostsEntry(vm)}`],
        },
        { ...child, dependsOn: [after] },
      );
    }

    /** The data network is internal (no route to the internet); services join both. */
    function createNetworks() {
      return {
        data: new docker.Network("net-data", { name: n("data"), driver: "bridge", internal: true }, onHost),
        edge: new docker.Network("net-edge", { name: n("edge"), driver: "bridge" }, onHost),
      };
    }

    function createVolumes() {
      const stateful = { ...onHost, retainOnDelete: true };
      return { pgdata: new docker.Volume("vol-pgdata", { name: n("pgdata") }, stateful), redisdata: new docker.Volume("vol-redisdata", { name: n("redisdata") }, stateful) };
    }

    function pullPinnedImages() {
      const pull = (key: keyof typeof PINNED_IMAGES) => new docker.RemoteImage(`image-${key}`, { name: PINNED_IMAGES[key], platform: vm.platform, keepLocally: true }, onHost);
      return { postgres: pull("postgres"), redis: pull("redis"), cloudflared: pull("cloudflared") };
    }

    /** Each image's build context is its bundle directory alone (a few hundred kB over SSH, not the repository). */
    function buildServiceImages() {
      const artifacts = args.artifactsDir ?? join(args.repoRoot, "dist");
      const build = (image: ServiceImage, service: "auth" | "influencer", dockerfileName = "Dockerfile", copies?: string[]) => {
        const context = join(artifacts, service);
        const dockerfile = join(args.repoRoot, "runtime", service, dockerfileName);
        return new docker.Image(
          `image-${image}`,
          {
            imageName: `twist-${image}:${contextDigest(context, dockerfile, copies).slice(0, 16)}`,
            // Relative to the directory Pulumi runs in (the project root), so CI and laptops agree.
            build: { context: relative(process.cwd(), context), dockerfile: relative(process.cwd(), dockerfile), platform: vm.platform },
            skipPush: true,
            buildOnPreview: false,
          },
          onHost,
        );
      };
      return { auth: build("auth", "auth"), influencer: build("influencer", "influencer"), migrate: build("migrate", "influencer", "migrate.Dockerfile", ["migrate.js", "migrate.js.map"]) };
    }

    function runPostgres() {
      return new docker.Container(
        "postgres",
        transform("postgres", {
          name: n("postgres"),
          image: pulled.postgres.imageId,
          envs: envList({ POSTGRES_USER: "twist", POSTGRES_DB: "twist", POSTGRES_PASSWORD_FILE: `${SECRETS_DIR}/POSTGRES_PASSWORD` }),
          uploads: secretFiles({ POSTGRES_PASSWORD: secrets.postgresPassword }, IMAGE_USERS.postgres),
          volumes: [{ volumeName: volumes.pgdata.name, containerPath: "/var/lib/postgresql/data" }],
          networksAdvanced: [{ name: networks.data.name, aliases: ["postgres"] }],
          healthcheck: { tests: ["CMD-SHELL", "pg_isready -U twist -d twist"], interval: "10s", timeout: "5s", retries: 6, startPeriod: "20s" },
          restart: "unless-stopped",
          wait: true,
          waitTimeout: 120,
          labels: labels("postgres"),
        }),
        onHost,
      );
    }

    function runRedis() {
      return new docker.Container(
        "redis",
        transform("redis", {
          name: n("redis"),
          image: pulled.redis.imageId,
          // requirepass lives in an uploaded config file, so the password is in no command line.
          command: ["redis-server", `${SECRETS_DIR}/redis.conf`],
          uploads: secretFiles(
            { "redis.conf": pulumi.interpolate`requirepass ${secrets.redisPassword}\nappendonly yes\nmaxmemory-policy noeviction\n`, REDIS_PASSWORD: secrets.redisPassword },
            IMAGE_USERS.redis,
          ),
          volumes: [{ volumeName: volumes.redisdata.name, containerPath: "/data" }],
          networksAdvanced: [{ name: networks.data.name, aliases: ["redis"] }],
          healthcheck: { tests: ["CMD-SHELL", `REDISCLI_AUTH="$(cat ${SECRETS_DIR}/REDIS_PASSWORD)" redis-cli ping | grep -q PONG`], interval: "10s", timeout: "5s", retries: 6 },
          restart: "unless-stopped",
          wait: true,
          waitTimeout: 60,
          labels: labels("redis"),
        }),
        onHost,
      );
    }

    function connectionUrls() {
      return {
        database: pulumi.interpolate`postgres://twist:${secrets.postgresPassword.apply(encodeURIComponent)}@postgres:5432/twist`,
        redis: pulumi.interpolate`redis://:${secrets.redisPassword.apply(encodeURIComponent)}@redis:6379/0`,
      };
    }

    /**
     * The one-shot migration, as a command over SSH rather than a container resource: `docker run`
     * exits non-zero when the migration fails, so the create fails and nothing is recorded in state;
     * the next `pulumi up` of the same commit runs it again (a docker_container that exited 1 would
     * stay "created" until someone passed --replace). It re-runs whenever the influencer image ID
     * changes (triggers replace the command). DATABASE_URL travels on stdin, never in argv.
     */
    function runMigration() {
      return new remote.Command(
        "migrate",
        {
          connection: ssh,
          create: pulumi.interpolate`set -eu
docker run --rm -i --name ${n("migrate")}-$(date +%s) --network ${networks.data.name} --label twist.stack=${stack} --label twist.role=migration \\
  -e TWIST_ENV=${stack} -e LOG_LEVEL=info --entrypoint /bin/sh ${built.migrate.repoDigest} \\
  -c 'IFS= read -r DATABASE_URL && export DATABASE_URL && exec node migrate.js'`,
          stdin: pulumi.interpolate`${urls.database}\n`,
          triggers: [built.migrate.repoDigest],
          logging: "stdoutAndStderr",
        },
        { ...child, dependsOn: [postgres] },
      );
    }

    function runAuth() {
      return appContainer("auth", {
        image: built.auth.repoDigest,
        command: ["node", "main.js"],
        envs: envList({
          ...commonEnv(),
          PORT: String(SERVICE_PORTS.auth),
          METRICS_PORT: String(METRICS_PORTS.auth),
          REDIS_PREFIX: "twist:auth:",
          SIWS_DOMAIN: args.siwsDomain,
          SIWS_URI: `https://${args.siwsDomain}`,
          SIWS_CHAIN_ID: args.siwsChainId,
        }),
        // Only what runtime/auth/src/config.ts reads.
        uploads: secretFiles({ REDIS_URL: urls.redis, JWT_KEYS: secrets.jwtKeys }, IMAGE_USERS.node),
        healthcheck: httpHealthcheck(SERVICE_PORTS.auth),
        alias: "auth",
        dependsOn: [redis],
      });
    }

    /** The API and the settlement worker: one image, one config (runtime/influencer/src/config.ts), two commands. */
    function runInfluencer(key: "influencer" | "settlement", command: string[]) {
      return appContainer(key, {
        image: built.influencer.repoDigest,
        command,
        envs: envList({
          ...commonEnv(),
          PORT: String(SERVICE_PORTS.influencer),
          METRICS_PORT: String(METRICS_PORTS.influencer),
          REDIS_PREFIX: "twist:influencer:",
          MERCHANT_DOMAINS: args.merchantDomains,
          PUBLIC_BASE_URL: `https://${args.apiHostname}`,
          SETTLEMENT_ADAPTER: args.settlementAdapter,
          SOLANA_RPC_URL: args.solanaRpcUrl,
          TWIST_MINT: args.twistMint,
          MAIL_TRANSPORT: "smtp",
          SMTP_HOST: args.smtp.host,
          SMTP_PORT: args.smtp.port,
          SMTP_TLS: args.smtp.tls,
          SMTP_USER: args.smtp.user,
          MAIL_FROM: args.smtp.from,
        }),
        uploads: secretFiles(
          {
            DATABASE_URL: urls.database,
            REDIS_URL: urls.redis,
            JWT_KEYS: secrets.jwtKeys,
            IP_HASH_SALT: secrets.ipHashSalt,
            SERVICE_SIGNING_KEYS: secrets.serviceSigningKeys,
            MERCHANT_SIGNING_KEYS: secrets.merchantSigningKeys,
            SOLANA_PAYER_SECRET_KEY: secrets.solanaPayerSecretKey,
            SMTP_PASSWORD: secrets.smtpPassword,
          },
          IMAGE_USERS.node,
        ),
        // The worker serves no port: it is healthy while it can reach the two stores it moves work between.
        healthcheck: key === "influencer" ? httpHealthcheck(SERVICE_PORTS.influencer) : tcpHealthcheck(["postgres:5432", "redis:6379"]),
        alias: key,
        dependsOn: [migration, postgres, redis],
      });
    }

    function publishThroughTunnel() {
      // A remotely managed Cloudflare Tunnel: cloudflared connects out to Cloudflare and forwards the
      // two public hostnames to the services' aliases on the edge network.
      const cfOpts = { ...child, provider: args.cloudflare.provider };
      const t = new cloudflare.ZeroTrustTunnelCloudflared("tunnel", { accountId: args.cloudflare.accountId, name: n("tunnel"), configSrc: "cloudflare", tunnelSecret: secrets.tunnelSecret }, cfOpts);
      new cloudflare.ZeroTrustTunnelCloudflaredConfig(
        "tunnel-config",
        {
          accountId: args.cloudflare.accountId,
          tunnelId: t.id,
          config: {
            ingresses: [
              { hostname: args.authHostname, service: `http://auth:${SERVICE_PORTS.auth}` },
              { hostname: args.apiHostname, service: `http://influencer:${SERVICE_PORTS.influencer}` },
              ...(args.extraIngress ?? []).map(({ hostname, service }) => ({ hostname, service })),
              { service: "http_status:404" },
            ],
          },
        },
        cfOpts,
      );
      for (const [key, hostname] of [["auth", args.authHostname], ["api", args.apiHostname], ...(args.extraIngress ?? []).map((i) => [i.key, i.hostname] as const)] as const) {
        new cloudflare.DnsRecord(
          `dns-${key}`,
          { zoneId: args.cloudflare.zoneId, name: hostname, type: "CNAME", content: pulumi.interpolate`${t.id}.cfargotunnel.com`, proxied: true, ttl: 1, comment: `twist ${stack} tunnel` },
          cfOpts,
        );
      }
      const token = cloudflare.getZeroTrustTunnelCloudflaredTokenOutput({ accountId: args.cloudflare.accountId, tunnelId: t.id }, cfOpts).apply((r) => r.token);
      // No dependsOn on the app containers: cloudflared resolves their aliases per request, and a
      // dependency would tie its lifecycle to theirs.
      const c = new docker.Container(
        "cloudflared",
        transform("cloudflared", {
          name: n("cloudflared"),
          image: pulled.cloudflared.imageId,
          command: ["tunnel", "--no-autoupdate", "run", "--token-file", `${SECRETS_DIR}/TUNNEL_TOKEN`],
          uploads: secretFiles({ TUNNEL_TOKEN: token }, IMAGE_USERS.cloudflared),
          networksAdvanced: [{ name: networks.edge.name }],
          restart: "unless-stopped",
          labels: labels("cloudflared"),
        }),
        onHost,
      );
      return { tunnel: t, cloudflared: c };
    }

    // ---- shared by the steps above ----

    function labels(role: string) {
      return [
        { label: "twist.stack", value: stack },
        { label: "twist.role", value: role },
      ];
    }

    function commonEnv() {
      return { TWIST_ENV: stack, LOG_LEVEL: "info", TRUSTED_PROXY_HEADER: args.trustedProxyHeader };
    }

    function httpHealthcheck(port: number): docker.types.input.ContainerHealthcheck {
      return {
        tests: ["CMD", "node", "-e", `fetch("http://127.0.0.1:${port}/health").then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`],
        interval: "15s",
        timeout: "5s",
        retries: 4,
        startPeriod: "20s",
      };
    }

    function tcpHealthcheck(targets: string[]): docker.types.input.ContainerHealthcheck {
      const script = `Promise.all(${JSON.stringify(targets)}.map(t=>new Promise((ok,no)=>{const[h,p]=t.split(":");const s=require("net").connect(+p,h,()=>{s.end();ok()});s.on("error",no);s.setTimeout(4000,()=>no())}))).then(()=>process.exit(0),()=>process.exit(1))`;
      return { tests: ["CMD", "node", "-e", script], interval: "30s", timeout: "5s", retries: 3, startPeriod: "10s" };
    }

    /**
     * An app container, replaced create-before-delete. Its name carries a digest of its inputs, so
     * the replacement never collides with the container it replaces; `deleteBeforeReplace: false`
     * is explicit because the provider asks for delete-first whenever a name is set. The digest is
     * 40 bits of sha256 over inputs that include secrets: it identifies a revision and reveals none.
     */
    function appContainer(key: AppContainer, spec: {
      image: pulumi.Output<string>;
      command: string[];
      envs: string[];
      uploads: docker.types.input.ContainerUpload[];
      healthcheck: docker.types.input.ContainerHealthcheck;
      alias: string;
      dependsOn: pulumi.Resource[];
    }) {
      const revision = pulumi.unsecret(
        pulumi.all([spec.image, spec.envs, spec.command, pulumi.output(spec.uploads)]).apply((v) => createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 10)),
      );
      return new docker.Container(
        key,
        transform(key, {
          name: pulumi.interpolate`${n(key)}-${revision}`,
          image: spec.image,
          entrypoints: SECRET_ENV_LOADER,
          command: spec.command,
          envs: spec.envs,
          uploads: spec.uploads,
          // The alias on both networks: cloudflared resolves it on the edge network, Prometheus on the data network.
          networksAdvanced: [{ name: networks.data.name, aliases: [spec.alias] }, { name: networks.edge.name, aliases: [spec.alias] }],
          healthcheck: spec.healthcheck,
          wait: true,
          waitTimeout: 120,
          restart: "unless-stopped",
          labels: labels(key),
        }),
        { ...onHost, dependsOn: spec.dependsOn, deleteBeforeReplace: false },
      );
    }
  }
}
