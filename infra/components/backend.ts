// BackendHost: the services on one or more VMs with Docker, reached over SSH. Every app host runs
// auth, influencer, the settlement worker and a cloudflared connector of the stack's one tunnel, so
// Cloudflare spreads the public hostnames over the hosts. Postgres and Redis run either as
// containers on the data host, on an internal network with no published ports, or as managed
// services reached over TLS (twist:database / twist:redis external). Nothing listens on a VM's
// public interface: cloudflared dials out. The first host is the primary: it keeps the names of
// the single-VM stack and runs the one migration job per deploy (docs/deploy.md, "Growing past one VM").
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
import type { BackendVm, StackConfig } from "../config";
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
  /** Password of the twist role of the Postgres container. Required when `database` is a container. */
  postgresPassword?: pulumi.Output<string>;
  /** requirepass of the Redis container. Required when `redis` is a container. */
  redisPassword?: pulumi.Output<string>;
  /** One deploy key authorised on every host; used by the host-preparation and migration commands (kept encrypted in their state, so refresh and destroy have it). */
  vmSshPrivateKey: pulumi.Output<string>;
  tunnelSecret: pulumi.Output<string>;
  /** SMTP_PASSWORD of the verification mail relay. */
  smtpPassword: pulumi.Output<string>;
  /** Only with the solana settlement adapter. */
  solanaPayerSecretKey?: pulumi.Output<string>;
}

type ServiceImage = "auth" | "influencer" | "migrate";
type AppContainer = "auth" | "influencer" | "settlement";

/**
 * The stack's `backend` config as infra/config.ts validates it (public hostnames, `hosts`,
 * `database`, `redis`, service settings; each key's default is in PLAIN_KEYS there), plus what
 * the program adds.
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
  /** Required; `postgresPassword` / `redisPassword` with container datastores, `solanaPayerSecretKey` with the solana adapter. */
  secrets: BackendSecrets;
  /** Changes a container's args before it is created (SST's transform); called with the container's logical name. Default: none. */
  transform?: { container?: (name: string, args: docker.ContainerArgs) => void };
  /**
   * More public hostnames forwarded to services on the primary host (e.g. Grafana, behind Access),
   * with a DNS record each. With one host they share the app tunnel; with several, a tunnel of
   * their own whose only connector runs on the primary, since the app tunnel's connectors on other
   * hosts cannot resolve them. Default: none.
   */
  extraIngress?: { key: string; hostname: string; service: string }[];
}

/** What the component created on one VM. */
export interface HostNodes {
  vm: BackendVm;
  provider: docker.Provider;
  networks: { data: docker.Network; edge: docker.Network };
  images: { cloudflared: docker.RemoteImage; auth: docker.Image; influencer: docker.Image };
  containers: Record<AppContainer | "cloudflared", docker.Container>;
}

/** A datastore container on the data host. */
export interface DatastoreNodes {
  image: docker.RemoteImage;
  volume: docker.Volume;
  container: docker.Container;
}

/**
 * What the component created (SST's `nodes`). Other components attach to the primary host's
 * `provider` and `networks` (index.ts: backups, monitoring).
 */
export interface BackendNodes {
  /** One per VM in config order; `hosts[0]` is the primary. */
  hosts: HostNodes[];
  /** Absent when that store is external. */
  postgres?: DatastoreNodes;
  redis?: DatastoreNodes;
  /** The one migration job of a deploy, on the primary; every influencer and settlement container waits for it. */
  migration: { image: docker.Image; command: remote.Command };
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
export const SECRET_ENV_LOADER = ["/bin/sh", "-c", `for f in ${SECRETS_DIR}/*; do [ -f "$f" ] && export "$(basename "$f")=$(cat "$f")"; done; exec "$@"`, "twist-secrets"];

/** Runtime users of the images (uid, gid): the files must be readable after privileges drop. */
const IMAGE_USERS = { node: ["1000", "1000"], postgres: ["70", "70"], redis: ["999", "1000"], cloudflared: ["65532", "65532"] } as const;

/**
 * sha256 over a build context and its Dockerfile: the tag of a service image. Unchanged bundles
 * give the same tag, so a commit that does not touch a service leaves its image and containers alone.
 */
export function contextDigest(contextDir: string, dockerfile: string): string {
  if (!existsSync(contextDir)) throw new Error(`build context ${contextDir} does not exist: run \`npm run build\` first`);
  const hash = createHash("sha256").update(readFileSync(dockerfile));
  const files = readdirSync(contextDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
  for (const file of files.map((f) => join(f.parentPath, f.name)).sort()) {
    hash.update(relative(contextDir, file)).update("\0").update(readFileSync(file));
  }
  return hash.digest("hex");
}

/**
 * A service image built on the VM from its staged context, `<artifacts>/images/<image>/`
 * (scripts/build.mjs `images`: exactly the files the Dockerfile copies, so a change to another
 * entry point of the same bundle leaves this image alone), tagged with the context's digest.
 */
export function serviceImage(logical: string, image: string, place: { artifactsDir: string; dockerfile: string; platform: string }, opts: pulumi.CustomResourceOptions): docker.Image {
  const context = join(place.artifactsDir, "images", image);
  return new docker.Image(
    logical,
    {
      imageName: `twist-${image}:${contextDigest(context, place.dockerfile).slice(0, 16)}`,
      // Relative to the directory Pulumi runs in (the project root), so CI and laptops agree.
      build: { context: relative(process.cwd(), context), dockerfile: relative(process.cwd(), place.dockerfile), platform: place.platform },
      skipPush: true,
      buildOnPreview: false,
    },
    opts,
  );
}

/**
 * Known-hosts line for ssh's KnownHostsCommand, keyed as ssh looks the host up (`[host]:port`
 * off port 22). The host key is plain config; nothing is written to disk, so `pulumi refresh` and
 * `pulumi destroy` work in any later process that has the key in ssh-agent.
 */
function knownHostsEntry(vm: BackendVm): string {
  const key = vm.hostKey.split(/\s+/).slice(1).join(" ");
  return `${vm.port === 22 ? vm.host : `[${vm.host}]:${vm.port}`} ${key}`;
}

/**
 * A second tunnel's secret derived from the stack's tunnel secret (32 bytes, base64, the shape of
 * `openssl rand -base64 32`), so the ops tunnel needs no stack secret of its own.
 */
function derivedTunnelSecret(secret: pulumi.Output<string>, purpose: string): pulumi.Output<string> {
  return pulumi.secret(secret.apply((s) => createHash("sha256").update(`${purpose}\0${s}`).digest("base64")));
}

/**
 * A remotely managed tunnel's connector token, computed here rather than read from the API: it is
 * cloudflared's TunnelToken (connection/connection.go), base64 of {"a": account, "t": tunnel id,
 * "s": secret}, and every part is known to the program. Reading it (GET .../cfd_tunnel/<id>/token)
 * needs Cloudflare Tunnel *Write*, which the read-only token of a pull request's preview must not
 * hold (docs/secrets.md).
 */
export function tunnelToken(accountId: string, tunnelId: pulumi.Input<string>, tunnelSecret: pulumi.Output<string>): pulumi.Output<string> {
  return pulumi.secret(
    pulumi.all([tunnelId, tunnelSecret]).apply(([t, s]) => Buffer.from(JSON.stringify({ a: accountId, t, s: Buffer.from(s, "base64").toString("base64") })).toString("base64")),
  );
}

export class BackendHost extends pulumi.ComponentResource {
  readonly nodes: BackendNodes;
  readonly authUrl: pulumi.Output<string>;
  readonly influencerUrl: pulumi.Output<string>;
  readonly imageTags: { auth: pulumi.Output<string>; influencer: pulumi.Output<string> };
  /** DATABASE_URL the services use (a Pulumi secret): the container's on the data network, or the external one. */
  readonly databaseUrl: pulumi.Output<string>;

  constructor(name: string, args: BackendHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("twist:backend:BackendHost", name, {}, opts);
    const { stack, secrets } = args;
    if (args.hosts.length === 0) throw new Error("BackendHost needs at least one host");
    const n = (logical: string) => physicalName(logical, stack);
    const transform = (key: string, c: docker.ContainerArgs) => {
      args.transform?.container?.(key, c);
      return c;
    };
    const child = { parent: this };
    const artifacts = args.artifactsDir ?? join(args.repoRoot, "dist");
    const separateOpsTunnel = args.hosts.length > 1 && (args.extraIngress ?? []).length > 0;

    const hosts = args.hosts.map((vm, index) => prepareHost(vm, index));
    const primary = hosts[0]!;
    const postgres = args.database.mode === "container" ? runPostgres() : undefined;
    const redis = args.redis.mode === "container" ? runRedis() : undefined;
    const urls = connectionUrls();
    const migration = runMigration();
    const tunnel = createTunnel("tunnel", [...appIngress(), ...(separateOpsTunnel ? [] : (args.extraIngress ?? []))], secrets.tunnelSecret);
    const opsTunnel = separateOpsTunnel ? createTunnel("tunnel-ops", args.extraIngress ?? [], derivedTunnelSecret(secrets.tunnelSecret, "tunnel-ops")) : undefined;
    const nodes = hosts.map((h) => {
      const containers = {
        auth: runAuth(h),
        influencer: runInfluencer(h, "influencer", ["node", "main.js"]),
        settlement: runInfluencer(h, "settlement", ["node", "worker.js"]),
        cloudflared: runConnector(h, "cloudflared", tunnel.token),
      };
      if (opsTunnel && h === primary) runConnector(h, "cloudflared-ops", opsTunnel.token);
      return { vm: h.vm, provider: h.provider, networks: h.networks, images: h.images, containers };
    });

    this.nodes = { hosts: nodes, postgres, redis, migration, tunnel: tunnel.tunnel };
    this.databaseUrl = urls.database;
    this.imageTags = { auth: primary.images.auth.imageName, influencer: primary.images.influencer.imageName };
    this.authUrl = pulumi.output(`https://${args.authHostname}`);
    this.influencerUrl = pulumi.output(`https://${args.apiHostname}`);
    this.registerOutputs({ authUrl: this.authUrl, influencerUrl: this.influencerUrl, imageTags: this.imageTags });

    type Host = ReturnType<typeof prepareHost>;

    /**
     * One VM's foundation: the host check, its docker provider, networks, and the images it runs.
     * The primary's resources keep the single-VM logical names; every other host's carry a
     * `<name>-` prefix (URNs are unique per stack, not per parent).
     */
    function prepareHost(vm: BackendVm, index: number) {
      const logical = (key: string) => (index === 0 ? key : `${vm.name}-${key}`);
      const ssh: remote.CommandArgs["connection"] = {
        host: vm.host,
        port: vm.port,
        user: vm.user,
        privateKey: secrets.vmSshPrivateKey,
        hostKey: vm.hostKey.split(/\s+/).slice(1).join(" "),
      };
      const prepared = checkDocker(vm, ssh, logical);
      const provider = createDockerProvider(vm, prepared, logical);
      const onHost = { ...child, provider };
      const networks = createNetworks(logical, onHost);
      const images = {
        cloudflared: pullImage("cloudflared", vm, logical, onHost),
        auth: buildImage("auth", "auth", vm, logical, onHost),
        influencer: buildImage("influencer", "influencer", vm, logical, onHost),
      };
      return { vm, index, logical, ssh, provider, onHost, networks, images };
    }

    /** Refuses to continue unless the VM answers with a working Docker engine for this user; creates the state directory. */
    function checkDocker(vm: BackendVm, ssh: remote.CommandArgs["connection"], logical: (k: string) => string) {
      return new remote.Command(
        logical("prepare-host"),
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
    function createDockerProvider(vm: BackendVm, after: pulumi.Resource, logical: (k: string) => string) {
      if (!pulumi.runtime.isDryRun() && !process.env.SSH_AUTH_SOCK) {
        throw new Error(
          `the docker provider reaches ${vm.host} over ssh with the key in ssh-agent, and SSH_AUTH_SOCK is not set: load it with \`pulumi config get twist:vmSshPrivateKey | ssh-add -\` (docs/deploy.md)`,
        );
      }
      return new docker.Provider(
        logical("docker"),
        {
          host: `ssh://${vm.user}@${vm.host}:${vm.port}`,
          sshOpts: ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/dev/null", "-o", `KnownHostsCommand=/bin/echo ${knownHostsEntry(vm)}`],
        },
        { ...child, dependsOn: [after] },
      );
    }

    /** The data network is internal (no route to the internet); services join both. */
    function createNetworks(logical: (k: string) => string, onHost: pulumi.CustomResourceOptions) {
      return {
        data: new docker.Network(logical("net-data"), { name: n("data"), driver: "bridge", internal: true }, onHost),
        edge: new docker.Network(logical("net-edge"), { name: n("edge"), driver: "bridge" }, onHost),
      };
    }

    function pullImage(key: keyof typeof PINNED_IMAGES, vm: BackendVm, logical: (k: string) => string, onHost: pulumi.CustomResourceOptions) {
      return new docker.RemoteImage(logical(`image-${key}`), { name: PINNED_IMAGES[key], platform: vm.platform, keepLocally: true }, onHost);
    }

    function buildImage(
      image: ServiceImage,
      service: "auth" | "influencer",
      vm: BackendVm,
      logical: (k: string) => string,
      onHost: pulumi.CustomResourceOptions,
      dockerfileName = "Dockerfile",
    ) {
      const dockerfile = join(args.repoRoot, "runtime", service, dockerfileName);
      return serviceImage(logical(`image-${image}`), image, { artifactsDir: artifacts, dockerfile, platform: vm.platform }, onHost);
    }

    /** A volume that outlives the program (state): never deleted with the stack. */
    function dataVolume(logical: string) {
      return new docker.Volume(`vol-${logical}`, { name: n(logical) }, { ...primary.onHost, retainOnDelete: true });
    }

    /** The datastores run on the data host, which is the primary and only app host (infra/config.ts checkRoles). */
    function runPostgres(): DatastoreNodes {
      const image = pullImage("postgres", primary.vm, primary.logical, primary.onHost);
      const volume = dataVolume("pgdata");
      const container = new docker.Container(
        "postgres",
        transform("postgres", {
          name: n("postgres"),
          image: image.imageId,
          envs: envList({ POSTGRES_USER: "twist", POSTGRES_DB: "twist", POSTGRES_PASSWORD_FILE: `${SECRETS_DIR}/POSTGRES_PASSWORD` }),
          uploads: secretFiles({ POSTGRES_PASSWORD: required(secrets.postgresPassword, "postgresPassword") }, IMAGE_USERS.postgres),
          volumes: [{ volumeName: volume.name, containerPath: "/var/lib/postgresql/data" }],
          networksAdvanced: [{ name: primary.networks.data.name, aliases: ["postgres"] }],
          healthcheck: { tests: ["CMD-SHELL", "pg_isready -U twist -d twist"], interval: "10s", timeout: "5s", retries: 6, startPeriod: "20s" },
          restart: "unless-stopped",
          wait: true,
          waitTimeout: 120,
          labels: labels("postgres"),
        }),
        primary.onHost,
      );
      return { image, volume, container };
    }

    function runRedis(): DatastoreNodes {
      const image = pullImage("redis", primary.vm, primary.logical, primary.onHost);
      const volume = dataVolume("redisdata");
      const password = required(secrets.redisPassword, "redisPassword");
      const container = new docker.Container(
        "redis",
        transform("redis", {
          name: n("redis"),
          image: image.imageId,
          // requirepass lives in an uploaded config file, so the password is in no command line.
          command: ["redis-server", `${SECRETS_DIR}/redis.conf`],
          uploads: secretFiles(
            { "redis.conf": pulumi.interpolate`requirepass ${password}\nappendonly yes\nmaxmemory-policy noeviction\n`, REDIS_PASSWORD: password },
            IMAGE_USERS.redis,
          ),
          volumes: [{ volumeName: volume.name, containerPath: "/data" }],
          networksAdvanced: [{ name: primary.networks.data.name, aliases: ["redis"] }],
          healthcheck: { tests: ["CMD-SHELL", `REDISCLI_AUTH="$(cat ${SECRETS_DIR}/REDIS_PASSWORD)" redis-cli ping | grep -q PONG`], interval: "10s", timeout: "5s", retries: 6 },
          restart: "unless-stopped",
          wait: true,
          waitTimeout: 60,
          labels: labels("redis"),
        }),
        primary.onHost,
      );
      return { image, volume, container };
    }

    /** The services' URLs: the containers' on the data network, or the external ones as given (TLS checked in config). */
    function connectionUrls() {
      return {
        database:
          args.database.mode === "external"
            ? args.database.url
            : pulumi.interpolate`postgres://twist:${required(secrets.postgresPassword, "postgresPassword").apply(encodeURIComponent)}@postgres:5432/twist`,
        redis: args.redis.mode === "external" ? args.redis.url : pulumi.interpolate`redis://:${required(secrets.redisPassword, "redisPassword").apply(encodeURIComponent)}@redis:6379/0`,
      };
    }

    /**
     * The one-shot migration, once per deploy on the primary, as a command over SSH rather than a
     * container resource: `docker run` exits non-zero when the migration fails, so the create fails
     * and nothing is recorded in state; the next `pulumi up` of the same commit runs it again (a
     * docker_container that exited 1 would stay "created" until someone passed --replace). Why
     * nothing is recorded, in the pinned providers: pulumi-command 1.2.1's Create
     * (provider/pkg/provider/remote/commandController.go) returns its new id together with the
     * error, but pulumi-go-provider 1.3.0 (infer/resource.go, Create) forwards a partial state only
     * for a ResourceInitFailedError, and the command's run() returns a plain error, so the engine
     * gets an error and no id. A failed re-run on update leaves the old state in place, whose
     * inputs differ from the program's, so the next `up` runs it again too. It re-runs whenever the
     * migration image ID changes (`triggers` replace the command; a changed `create` or `stdin`
     * updates it, which runs `create` again). DATABASE_URL travels on stdin, never in argv. A
     * container database is on the internal data network; an external one is reached through the
     * edge network's route out.
     */
    function runMigration() {
      const image = buildImage("migrate", "influencer", primary.vm, primary.logical, primary.onHost, "migrate.Dockerfile");
      const network = postgres ? primary.networks.data.name : primary.networks.edge.name;
      const command = new remote.Command(
        "migrate",
        {
          connection: primary.ssh,
          create: pulumi.interpolate`set -eu
docker run --rm -i --name ${n("migrate")}-$(date +%s) --network ${network} --label twist.stack=${stack} --label twist.role=migration \\
  -e TWIST_ENV=${stack} -e LOG_LEVEL=info --entrypoint /bin/sh ${image.repoDigest} \\
  -c 'IFS= read -r DATABASE_URL && export DATABASE_URL && exec node migrate.js'`,
          stdin: pulumi.interpolate`${urls.database}\n`,
          triggers: [image.repoDigest],
          logging: "stdoutAndStderr",
        },
        { ...child, dependsOn: postgres ? [postgres.container] : [] },
      );
      return { image, command };
    }

    function runAuth(h: Host) {
      return appContainer(h, "auth", {
        image: h.images.auth.repoDigest,
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
        // Auth reads no table, but it is part of the release: no app container of a deploy starts
        // on any host before that deploy's migration succeeded.
        dependsOn: [migration.command, ...(redis ? [redis.container] : [])],
      });
    }

    /** The API and the settlement worker: one image, one config (runtime/influencer/src/config.ts), two commands. */
    function runInfluencer(h: Host, key: "influencer" | "settlement", command: string[]) {
      return appContainer(h, key, {
        image: h.images.influencer.repoDigest,
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
        healthcheck: key === "influencer" ? httpHealthcheck(SERVICE_PORTS.influencer) : storesHealthcheck(),
        alias: key,
        dependsOn: [migration.command, ...(postgres ? [postgres.container] : []), ...(redis ? [redis.container] : [])],
      });
    }

    /** The public hostnames of the services, forwarded to their aliases on each host's edge network. */
    function appIngress() {
      return [
        { key: "auth", hostname: args.authHostname, service: `http://auth:${SERVICE_PORTS.auth}` },
        { key: "api", hostname: args.apiHostname, service: `http://influencer:${SERVICE_PORTS.influencer}` },
      ];
    }

    /**
     * A remotely managed Cloudflare Tunnel: its connectors (cloudflared) connect out to Cloudflare
     * and forward each public hostname to a service alias; a CNAME per hostname points at it.
     */
    function createTunnel(logical: string, ingress: { key: string; hostname: string; service: string }[], tunnelSecret: pulumi.Output<string>) {
      const cfOpts = { ...child, provider: args.cloudflare.provider };
      const t = new cloudflare.ZeroTrustTunnelCloudflared(logical, { accountId: args.cloudflare.accountId, name: n(logical), configSrc: "cloudflare", tunnelSecret }, cfOpts);
      new cloudflare.ZeroTrustTunnelCloudflaredConfig(
        `${logical}-config`,
        {
          accountId: args.cloudflare.accountId,
          tunnelId: t.id,
          config: { ingresses: [...ingress.map(({ hostname, service }) => ({ hostname, service })), { service: "http_status:404" }] },
        },
        cfOpts,
      );
      for (const { key, hostname } of ingress) {
        new cloudflare.DnsRecord(
          `dns-${key}`,
          {
            zoneId: args.cloudflare.zoneId,
            name: hostname,
            type: "CNAME",
            content: pulumi.interpolate`${t.id}.cfargotunnel.com`,
            proxied: true,
            ttl: 1,
            comment: `twist ${stack} tunnel`,
          },
          cfOpts,
        );
      }
      return { tunnel: t, token: tunnelToken(args.cloudflare.accountId, t.id, tunnelSecret) };
    }

    /**
     * A connector of a tunnel on one host. No dependsOn on the app containers: cloudflared resolves
     * their aliases per request, and a dependency would tie its lifecycle to theirs.
     */
    function runConnector(h: Host, key: "cloudflared" | "cloudflared-ops", token: pulumi.Output<string>) {
      return new docker.Container(
        h.logical(key),
        transform(h.logical(key), {
          name: n(key),
          image: h.images.cloudflared.imageId,
          command: ["tunnel", "--no-autoupdate", "run", "--token-file", `${SECRETS_DIR}/TUNNEL_TOKEN`],
          uploads: secretFiles({ TUNNEL_TOKEN: token }, IMAGE_USERS.cloudflared),
          networksAdvanced: [{ name: h.networks.edge.name }],
          restart: "unless-stopped",
          labels: labels(key),
        }),
        h.onHost,
      );
    }

    // ---- shared by the steps above ----

    function required(secret: pulumi.Output<string> | undefined, key: string): pulumi.Output<string> {
      if (!secret) throw new Error(`BackendHost: secrets.${key} is required with a container datastore`);
      return secret;
    }

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

    /**
     * TCP reachability of Postgres and Redis: a container store by its alias, an external one by the
     * host and port of the URL in its secret file (read at check time, so no plain input holds it).
     */
    function storesHealthcheck(): docker.types.input.ContainerHealthcheck {
      const aliases = [...(postgres ? ["postgres:5432"] : []), ...(redis ? ["redis:6379"] : [])];
      const files = [...(postgres ? [] : [`${SECRETS_DIR}/DATABASE_URL`]), ...(redis ? [] : [`${SECRETS_DIR}/REDIS_URL`])];
      const fromFiles = `${JSON.stringify(files)}.map(f=>{const u=new URL(require("fs").readFileSync(f,"utf8").trim());return u.hostname.replace(/^\\[|\\]$/g,"")+":"+(u.port||(u.protocol.startsWith("redis")?6379:5432))})`;
      const targets = files.length === 0 ? JSON.stringify(aliases) : `[...${JSON.stringify(aliases)},...${fromFiles}]`;
      const script = `Promise.all(${targets}.map(t=>new Promise((ok,no)=>{const[h,p]=t.split(":");const s=require("net").connect(+p,h,()=>{s.end();ok()});s.on("error",no);s.setTimeout(4000,()=>no())}))).then(()=>process.exit(0),()=>process.exit(1))`;
      return { tests: ["CMD", "node", "-e", script], interval: "30s", timeout: "5s", retries: 3, startPeriod: "10s" };
    }

    /**
     * An app container, replaced create-before-delete. Its name carries a digest of its inputs, so
     * the replacement never collides with the container it replaces; `deleteBeforeReplace: false`
     * is explicit because the provider asks for delete-first whenever a name is set. The digest is
     * 40 bits of sha256 over inputs that include secrets: it identifies a revision and reveals none.
     */
    function appContainer(
      h: Host,
      key: AppContainer,
      spec: {
        image: pulumi.Output<string>;
        command: string[];
        envs: string[];
        uploads: docker.types.input.ContainerUpload[];
        healthcheck: docker.types.input.ContainerHealthcheck;
        alias: string;
        dependsOn: pulumi.Resource[];
      },
    ) {
      const revision = pulumi.unsecret(
        pulumi.all([spec.image, spec.envs, spec.command, pulumi.output(spec.uploads)]).apply((v) => createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 10)),
      );
      return new docker.Container(
        h.logical(key),
        transform(h.logical(key), {
          name: pulumi.interpolate`${n(key)}-${revision}`,
          image: spec.image,
          entrypoints: SECRET_ENV_LOADER,
          command: spec.command,
          envs: spec.envs,
          uploads: spec.uploads,
          // The alias on both networks: cloudflared resolves it on the edge network, Prometheus on the data network.
          networksAdvanced: [
            { name: h.networks.data.name, aliases: [spec.alias] },
            { name: h.networks.edge.name, aliases: [spec.alias] },
          ],
          healthcheck: spec.healthcheck,
          wait: true,
          waitTimeout: 120,
          restart: "unless-stopped",
          labels: labels(key),
        }),
        { ...h.onHost, dependsOn: spec.dependsOn, deleteBeforeReplace: false },
      );
    }
  }
}
