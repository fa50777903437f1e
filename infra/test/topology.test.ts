// The backend's shape (infra/config.ts twist:backend.hosts, twist:database, twist:redis) under
// pulumi.runtime.setMocks: the single-VM keys and the equivalent one-host list give the same graph;
// two app hosts with managed datastores give two sets of app containers and two connectors of one
// tunnel, one migration job, no datastore containers and no secret in any plain input.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, type Server, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../test/support/ports";
import { load as loadYaml } from "js-yaml";
import { type DetailedResource, type Evaluation, REPO_ROOT, evaluateProgram } from "../offline/evaluate";
import { PLACEHOLDER_SECRETS, placeholderNeedles } from "../offline/placeholders";
import { STACKS, T, leaves, only } from "./helpers";

const SINGLE_VM_KEYS = ["vmHost", "vmUser", "vmSshPort", "vmHostKey", "vmPlatform"].map((k) => `twist:${k}`);
const hostKey = (ip: string) => `${ip} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMLuWupmBhqRJit075QVrCu5Tf25nlyl6f3RJM7VxQ1V`;
const EXTERNAL = { "twist:database": "external", "twist:redis": "external" };
const TWO_HOSTS = [
  { name: "a", host: "203.0.113.10", hostKey: hostKey("203.0.113.10"), platform: "linux/arm64" },
  { name: "b", host: "203.0.113.11", user: "deploy", sshPort: 2222, hostKey: hostKey("203.0.113.11") },
];

/** Evaluates staging with a twist:backend object instead of the single-VM keys. */
function withHosts(hosts: unknown[], config: Record<string, string> = {}, stack = "staging"): Promise<Evaluation> {
  return evaluateProgram({ stack, unset: SINGLE_VM_KEYS, config: { "twist:backend": JSON.stringify({ hosts }), ...config } });
}

/** Evaluates and returns the error message (fails if the evaluation succeeds). */
async function failure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected the evaluation to fail");
}

/** What the engine receives for a resource, minus registration order. */
const comparable = (r: DetailedResource) => ({ ...r, dependencies: [...r.dependencies].sort(), secretLeaves: [...r.secretLeaves].sort() });
const byUrn = (ev: Evaluation) => Object.fromEntries(ev.resources.map((r) => [r.urn, comparable(r)]));
const uploads = (r: DetailedResource) => r.inputs.uploads as { file: string; content: string }[];
const upload = (r: DetailedResource, name: string) => uploads(r).find((u) => u.file === `/run/secrets/${name}`);

describe("infra topology: the single-VM keys are the one-host list", function () {
  this.timeout(120_000);

  for (const stack of STACKS) {
    it(`${stack}: twist:vmHost... and the equivalent twist:backend.hosts give the same URNs, types, inputs, dependencies and options`, async () => {
      const file = loadYaml(readFileSync(join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, string> };
      const c = file.config;
      const commit = { "twist:commit": "c".repeat(40) };
      const single = await evaluateProgram({ stack, config: commit });
      const host = {
        name: "vm",
        host: c["twist:vmHost"],
        user: c["twist:vmUser"],
        sshPort: Number(c["twist:vmSshPort"]),
        hostKey: c["twist:vmHostKey"],
        platform: c["twist:vmPlatform"],
        roles: ["app", "data"],
      };
      const listed = await evaluateProgram({ stack, unset: SINGLE_VM_KEYS, config: { ...commit, "twist:backend": JSON.stringify({ hosts: [host] }) } });
      expect(single.resources.length).to.be.greaterThan(50);
      expect(byUrn(listed)).to.deep.equal(byUrn(single));
      expect(listed.outputs).to.deep.equal(single.outputs);
    });
  }
});

describe("infra topology: two app hosts with a managed Postgres and Redis", function () {
  this.timeout(120_000);
  let ev: Evaluation;
  let resources: DetailedResource[];
  const get = (type: string, name: string) => only(resources, type, name);
  const named = (type: string, pattern: RegExp) =>
    resources
      .filter((r) => r.type === type && pattern.test(r.name))
      .map((r) => r.name)
      .sort();
  before(async () => {
    ev = await withHosts(TWO_HOSTS, { ...EXTERNAL, "twist:commit": "c".repeat(40) });
    resources = ev.resources;
  });

  it("runs auth, influencer and settlement on each host, through that host's docker provider", () => {
    expect(named(T.container, /auth|influencer|settlement/)).to.deep.equal(["auth", "b-auth", "b-influencer", "b-settlement", "influencer", "settlement"]);
    expect(get(T.dockerProvider, "docker").inputs.host).to.equal("ssh://twist@203.0.113.10:22");
    expect(get(T.dockerProvider, "b-docker").inputs.host).to.equal("ssh://deploy@203.0.113.11:2222");
    expect(JSON.parse(String(get(T.dockerProvider, "b-docker").inputs.sshOpts))).to.include(
      `KnownHostsCommand=/bin/echo [203.0.113.11]:2222 ${hostKey("x").split(" ").slice(1).join(" ")}`,
    );
    for (const [prefix, provider] of [
      ["", "docker"],
      ["b-", "b-docker"],
    ] as const) {
      const urn = get(T.dockerProvider, provider).urn;
      for (const name of ["auth", "influencer", "settlement", "cloudflared", "net-data", "net-edge", "image-auth", "image-influencer"]) {
        const r = resources.find((x) => x.name === `${prefix}${name}`)!;
        expect(r.provider, `${prefix}${name}`).to.match(new RegExp(`^${urn.replace(/[$]/g, "\\$")}::`));
      }
      // Each host builds its own images for its own platform.
      expect((get(T.image, `${prefix}image-auth`).inputs.build as { platform: string }).platform).to.equal(prefix ? "linux/amd64" : "linux/arm64");
    }
    // The second host's physical names are the same as the first's: each is a separate Docker daemon.
    expect(get(T.container, "b-auth").inputs.name).to.match(/^twist-auth-staging-[0-9a-f]{10}$/);
  });

  it("gives every host a connector of the same tunnel, so Cloudflare spreads the public hostnames over them", () => {
    const tunnel = get(T.tunnel, "tunnel");
    expect(resources.filter((r) => r.type === T.tunnel && r.name === "tunnel")).to.have.length(1);
    for (const name of ["cloudflared", "b-cloudflared"]) {
      const c = get(T.container, name);
      expect(c.dependencies, name).to.include(tunnel.urn);
      expect(c.inputs.command, name).to.deep.equal(["tunnel", "--no-autoupdate", "run", "--token-file", "/run/secrets/TUNNEL_TOKEN"]);
    }
    const ingress = (get(T.tunnelConfig, "tunnel-config").inputs.config as { ingresses: { hostname?: string; service: string }[] }).ingresses;
    expect(ingress.map((i) => i.hostname)).to.deep.equal(["auth-staging.twist.example", "api-staging.twist.example", undefined]);
    for (const dns of ["dns-auth", "dns-api"]) expect(get(T.dns, dns).dependencies, dns).to.include(tunnel.urn);
  });

  it("serves Grafana through a tunnel whose only connector is on the primary (the other hosts cannot resolve it)", () => {
    const ops = get(T.tunnel, "tunnel-ops");
    expect(ops.inputs.name).to.equal("twist-tunnel-ops-staging");
    const ingress = (get(T.tunnelConfig, "tunnel-ops-config").inputs.config as { ingresses: { hostname?: string; service: string }[] }).ingresses;
    expect(ingress).to.deep.equal([{ hostname: "grafana-staging.twist.example", service: "http://grafana:3000" }, { service: "http_status:404" }]);
    expect(get(T.dns, "dns-grafana").dependencies).to.include(ops.urn);
    expect(named(T.container, /cloudflared-ops/)).to.deep.equal(["cloudflared-ops"]);
    expect(get(T.container, "cloudflared-ops").provider).to.match(new RegExp(`^${get(T.dockerProvider, "docker").urn.replace(/[$]/g, "\\$")}::`));
    // Its secret is derived from the tunnel secret, distinct from it, and a secret.
    expect(ops.secretLeaves).to.include("tunnelSecret");
    expect(ops.inputs.tunnelSecret)
      .to.match(/^[A-Za-z0-9+/]{43}=$/)
      .and.not.to.equal(get(T.tunnel, "tunnel").inputs.tunnelSecret);
  });

  it("runs one migration job, on the primary, that every app container on every host waits for", () => {
    const migrations = resources.filter((r) => r.type === T.command && /migrate/.test(r.name));
    expect(migrations.map((r) => r.name)).to.deep.equal(["migrate"]);
    const migrate = migrations[0]!;
    expect((migrate.inputs.connection as { host: string }).host).to.equal("203.0.113.10");
    expect(named(T.image, /migrate/)).to.deep.equal(["image-migrate"]);
    const apps = resources.filter((r) => r.type === T.container && /^(b-)?(auth|influencer|settlement)$/.test(r.name)).map((r) => r.name);
    expect(apps.sort()).to.deep.equal(["auth", "b-auth", "b-influencer", "b-settlement", "influencer", "settlement"]);
    for (const name of apps) expect(get(T.container, name).dependencies, name).to.include(migrate.urn);
    // The connectors are not app containers: they never wait for (or restart with) a migration.
    for (const name of ["cloudflared", "b-cloudflared"]) expect(get(T.container, name).dependencies, name).not.to.include(migrate.urn);
    // The managed database is outside the internal data network: the job reaches it by the edge network's route out.
    expect(migrate.inputs.create).to.contain("--network twist-edge-staging ");
    expect(migrate.secretLeaves).to.include("stdin");
    expect(migrate.inputs.stdin).to.equal(`${PLACEHOLDER_SECRETS.databaseUrl}\n`);
  });

  it("declares no datastore container, image or volume; the services get the external URLs as secret files", () => {
    expect(resources.filter((r) => /postgres|redis|pgdata/.test(r.name) && r.type !== T.command).map((r) => r.name)).to.deep.equal([]);
    for (const name of ["influencer", "b-settlement"]) {
      const r = get(T.container, name);
      expect(upload(r, "DATABASE_URL")!.content, name).to.equal(PLACEHOLDER_SECRETS.databaseUrl);
      expect(upload(r, "REDIS_URL")!.content, name).to.equal(PLACEHOLDER_SECRETS.redisUrl);
      const i = uploads(r).findIndex((u) => u.file === "/run/secrets/DATABASE_URL");
      expect(r.secretLeaves, name).to.include(`uploads[${i}].content`);
    }
    expect(upload(get(T.container, "b-auth"), "REDIS_URL")!.content).to.equal(PLACEHOLDER_SECRETS.redisUrl);
    // The backup job dumps the managed database from the primary, over its egress network.
    const backup = get(T.container, "backup");
    expect(upload(backup, "DATABASE_URL")!.content).to.equal(PLACEHOLDER_SECRETS.databaseUrl);
    expect((backup.inputs.networksAdvanced as { name: string }[]).map((n) => n.name)).to.include("twist-edge-staging");
  });

  it("puts no secret (passwords or hosts of the managed URLs included) into any plain input", () => {
    const needles = placeholderNeedles();
    expect(needles).to.include.members([PLACEHOLDER_SECRETS.databaseUrl, PLACEHOLDER_SECRETS.redisUrl]);
    const leaks: string[] = [];
    for (const r of resources) {
      for (const [path, value] of leaves(r.inputs)) {
        if (typeof value !== "string" || r.secretLeaves.some((s) => path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`))) continue;
        if (/PLACEHOLDER/.test(value)) leaks.push(`${r.name} ${path}`);
      }
    }
    expect(leaks).to.deep.equal([]);
  });
});

describe("infra topology: the settlement worker's check reaches the stores named in its secret files", function () {
  this.timeout(60_000);
  let dir: string;
  let script: string;
  const servers: Server[] = [];
  const listen = () =>
    new Promise<number>((resolve) => {
      const s = createServer((socket) => socket.end());
      servers.push(s);
      s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port));
    });
  before(async () => {
    const ev = await withHosts([TWO_HOSTS[0]], EXTERNAL);
    const tests = (only(ev.resources, T.container, "settlement").inputs.healthcheck as { tests: string[] }).tests;
    expect(tests.slice(0, 3)).to.deep.equal(["CMD", "node", "-e"]);
    dir = mkdtempSync(join(tmpdir(), "twist-healthcheck-"));
    // The files docker would mount under /run/secrets, here in a temporary directory.
    script = tests[3]!.replaceAll("/run/secrets/", `${dir}/`);
    expect(script).not.to.contain("PLACEHOLDER");
  });
  after(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const check = (database: string, redis: string) => {
    writeFileSync(join(dir, "DATABASE_URL"), `${database}\n`);
    writeFileSync(join(dir, "REDIS_URL"), `${redis}\n`);
    for (const f of ["DATABASE_URL", "REDIS_URL"]) chmodSync(join(dir, f), 0o400);
    const result = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 30_000 });
    for (const f of ["DATABASE_URL", "REDIS_URL"]) rmSync(join(dir, f));
    return result.status;
  };

  it("passes when both answer and fails when either does not", async () => {
    const [pg, redis, dead] = [await listen(), await listen(), await freePort()];
    expect(check(`postgres://u:p@127.0.0.1:${pg}/twist?sslmode=require`, `rediss://default:p@127.0.0.1:${redis}`)).to.equal(0);
    expect(check(`postgres://u:p@127.0.0.1:${dead}/twist?sslmode=require`, `rediss://default:p@127.0.0.1:${redis}`)).to.equal(1);
    expect(check(`postgres://u:p@127.0.0.1:${pg}/twist?sslmode=require`, `rediss://default:p@127.0.0.1:${dead}`)).to.equal(1);
  });
});

describe("infra topology: one host with a managed Postgres and the Redis container", function () {
  this.timeout(120_000);

  it("drops the Postgres container and its secret, keeps Redis, and migrates over the route out", async () => {
    const ev = await evaluateProgram({ stack: "production", unset: ["twist:postgresPassword"], config: { "twist:database": "external" } });
    const names = ev.resources.map((r) => r.name);
    expect(names).to.include.members(["redis", "vol-redisdata", "image-redis"]).and.not.to.include.members(["postgres"]);
    expect(names.filter((n) => /postgres|pgdata/.test(n))).to.deep.equal([]);
    const settlement = JSON.stringify(only(ev.resources, T.container, "settlement").inputs.healthcheck);
    expect(settlement).to.contain("redis:6379").and.to.contain("/run/secrets/DATABASE_URL").and.not.to.contain("postgres:5432");
    expect(only(ev.resources, T.command, "migrate").inputs.create).to.contain("--network twist-edge-production ");
    expect(upload(only(ev.resources, T.container, "auth"), "REDIS_URL")!.content).to.match(/^redis:\/\/:PLACEHOLDER-redisPassword-[^@]+@redis:6379\/0$/);
  });
});

describe("infra topology: a wrong shape names the key", function () {
  this.timeout(180_000);

  it("names a malformed hosts list, entry or field", async () => {
    expect(await failure(() => evaluateProgram({ stack: "staging", unset: SINGLE_VM_KEYS, config: { "twist:backend": JSON.stringify({ hosts: [] }) } }))).to.contain(
      "twist:backend.hosts: must be a non-empty list of VMs",
    );
    const message = await failure(() =>
      withHosts([{ ...TWO_HOSTS[0], hostKey: "not a key" }, { name: "B!", host: "203.0.113.11", port: 22, roles: ["app", "cache"] }, "vm3"], EXTERNAL),
    );
    expect(message).to.contain("twist:backend.hosts[0].hostKey: must be one known_hosts line");
    expect(message).to.contain("twist:backend.hosts[1].name: must be a short name");
    expect(message).to.contain("twist:backend.hosts[1].hostKey: is required");
    expect(message).to.contain("twist:backend.hosts[1].port: is not a host setting (expected name, host, user, sshPort, hostKey, platform, roles)");
    expect(message).to.contain("twist:backend.hosts[1].roles: must be a non-empty list of distinct roles out of app, data");
    expect(message).to.contain("twist:backend.hosts[2]: must be an object");
    expect(await failure(() => withHosts([TWO_HOSTS[0], { ...TWO_HOSTS[1], name: "a" }], EXTERNAL))).to.contain("twist:backend.hosts[1].name: repeats hosts[0].name");
    expect(
      await failure(() => evaluateProgram({ stack: "staging", unset: SINGLE_VM_KEYS, config: { "twist:backend": JSON.stringify({ hosts: TWO_HOSTS, region: "eu" }), ...EXTERNAL } })),
    ).to.contain("twist:backend.region: is not a backend setting");
  });

  it("refuses the single-VM keys beside twist:backend", async () => {
    const message = await failure(() => evaluateProgram({ stack: "staging", config: { "twist:backend": JSON.stringify({ hosts: TWO_HOSTS }), ...EXTERNAL } }));
    expect(message).to.contain("twist:vmHost: conflicts with twist:backend");
    expect(message).to.contain("twist:vmHostKey: conflicts with twist:backend");
  });

  it("refuses app hosts that cannot reach a datastore container, and a data role with nothing to run", async () => {
    const containers = await failure(() => withHosts([{ ...TWO_HOSTS[0], roles: ["app", "data"] }, TWO_HOSTS[1]]));
    expect(containers).to.contain("twist:backend.hosts[1].roles: an app host other than the data host cannot reach twist:database and twist:redis in a container");
    const redisOnly = await failure(() => withHosts([{ ...TWO_HOSTS[0], roles: ["app", "data"] }, TWO_HOSTS[1]], { "twist:database": "external" }));
    expect(redisOnly).to.contain("cannot reach twist:redis in a container");
    expect(await failure(() => withHosts([TWO_HOSTS[0]]))).to.contain("twist:backend.hosts: no host has the data role, but twist:database and twist:redis run in a container");
    expect(
      await failure(() =>
        withHosts([
          { ...TWO_HOSTS[0], roles: ["app", "data"] },
          { ...TWO_HOSTS[1], roles: ["data"] },
        ]),
      ),
    ).to.contain("twist:backend.hosts[1].roles: only one host runs the data role");
    expect(await failure(() => withHosts([{ ...TWO_HOSTS[0], roles: ["data"] }, TWO_HOSTS[1]], EXTERNAL))).to.contain(
      "twist:backend.hosts[0].roles: has the data role, but twist:database and twist:redis are external",
    );
    expect(await failure(() => withHosts([{ ...TWO_HOSTS[0], roles: ["data"] }], { "twist:database": "external" }))).to.contain(
      "twist:backend.hosts: needs at least one host with the app role",
    );
  });

  it("requires TLS on an external URL, naming the key and never the value", async () => {
    const noTls = "postgres://twist:hunter2-not-a-password@db.example.net/twist";
    const plain = await failure(() => evaluateProgram({ stack: "staging", config: { "twist:database": "external", "twist:databaseUrl": noTls } }));
    expect(plain).to.contain("twist:databaseUrl: must require TLS: it has no sslmode (add sslmode=require");
    expect(plain).not.to.contain("hunter2");
    expect(await failure(() => evaluateProgram({ stack: "staging", config: { "twist:database": "external", "twist:databaseUrl": `${noTls}?sslmode=prefer` } }))).to.contain(
      "it has sslmode=prefer",
    );
    expect(await failure(() => evaluateProgram({ stack: "staging", config: { "twist:database": "external", "twist:databaseUrl": "mysql://db.example.net/twist" } }))).to.contain(
      "twist:databaseUrl: must be a postgres://",
    );
    const redis = await failure(() =>
      evaluateProgram({ stack: "staging", config: { "twist:redis": "external", "twist:redisUrl": "redis://default:hunter2-not-a-password@cache.example.net:6379" } }),
    );
    expect(redis).to.contain("twist:redisUrl: must require TLS: it uses redis:// (plaintext)");
    expect(redis).not.to.contain("hunter2");
    // Each accepted mode is a policy/lib/datastore-urls.ts unit case; one runs through the program here.
    const ok = await evaluateProgram({ stack: "staging", config: { "twist:database": "external", "twist:databaseUrl": `${noTls}?sslmode=verify-full` } });
    expect(upload(only(ok.resources, T.container, "influencer"), "DATABASE_URL")!.content).to.equal(`${noTls}?sslmode=verify-full`);
  });

  it("names a missing URL secret and an unknown datastore mode", async () => {
    const missing = await failure(() => evaluateProgram({ stack: "staging", unset: ["twist:databaseUrl", "twist:redisUrl"], config: EXTERNAL }));
    expect(missing).to.contain("twist:databaseUrl: is required (pulumi config set --secret twist:databaseUrl");
    expect(missing).to.contain("twist:redisUrl: is required");
    expect(await failure(() => evaluateProgram({ stack: "staging", config: { "twist:database": "neon" } }))).to.contain("twist:database: must be one of container, external");
  });
});
