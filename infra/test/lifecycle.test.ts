// The second deploy and the ones after it: what a new commit, a rollback and a failed migration
// do to the graph, judged by the offline change set (infra/offline/diff.ts) between evaluations.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { stageImages } from "../../scripts/build.mjs";
import { diffEvaluations } from "../offline/diff";
import { REPO_ROOT, evaluateProgram } from "../offline/evaluate";
import { PLACEHOLDER_SECRETS } from "../offline/placeholders";
import { T, evaluated, only } from "./helpers";

const A = "a".repeat(40);
const B = "b".repeat(40);

describe("infra lifecycle: updates after the first deploy", function () {
  this.timeout(120_000);

  it("a new commit whose bundles are unchanged changes nothing: no input depends on the commit", async () => {
    const first = await evaluateProgram({ stack: "staging", config: { "twist:commit": A } });
    const second = await evaluateProgram({ stack: "staging", config: { "twist:commit": B } });
    expect(first.outputs.commit).to.equal(A);
    expect(second.outputs.commit).to.equal(B);
    expect(diffEvaluations(first, second)).to.deep.equal([]);
  });

  it("replaces app containers create-before-delete, under the alias the tunnel resolves, after a healthcheck", async () => {
    const { resources } = await evaluated("staging");
    for (const name of ["auth", "influencer", "settlement"]) {
      const c = only(resources, T.container, name);
      expect(c.options.deleteBeforeReplace, name).to.equal(false);
      expect(c.inputs.wait, name).to.equal(true);
      expect((c.inputs.healthcheck as { tests: string[] }).tests, name).to.have.length.greaterThan(1);
      // The same alias on the data network (Prometheus) and the edge network (cloudflared).
      expect(
        (c.inputs.networksAdvanced as { aliases?: string[] }[]).map((n) => n.aliases),
        name,
      ).to.deep.equal([[name], [name]]);
    }
    const ingress = (only(resources, T.tunnelConfig, "tunnel-config").inputs.config as { ingresses: { service: string }[] }).ingresses.map((i) => i.service);
    expect(ingress).to.include.members(["http://auth:3001", "http://influencer:3003"]);
    // The settlement worker serves no port: its check is reaching Postgres and Redis, not an HTTP /health.
    const settlement = JSON.stringify(only(resources, T.container, "settlement").inputs.healthcheck);
    expect(settlement).to.contain("postgres:5432").and.to.contain("redis:6379").and.not.to.contain("/health");
    // cloudflared does not depend on the app containers, so replacing them never touches it.
    const cloudflared = only(resources, T.container, "cloudflared");
    for (const name of ["auth", "influencer"]) expect(cloudflared.dependencies).not.to.include(only(resources, T.container, name).urn);
  });

  it("retains stateful resources on delete: KV, R2, queues, the Worker (Durable Object storage), the volumes", async () => {
    const { resources } = await evaluated("production");
    const stateful = resources.filter((r) => [T.kv, T.r2, T.queue, T.script, T.volume].includes(r.type as never));
    expect(stateful.map((r) => r.name)).to.include.members(["kv-devices", "r2-audit", "queue-rewards", "queue-rewards-dlq", "worker", "vol-pgdata", "vol-redisdata"]);
    for (const r of stateful) expect(r.options.retainOnDelete, r.name).to.equal(true);
  });

  it("docs/deploy.md's Destroy names every resource a destroy leaves behind, and the protected one production's destroy stops on", async () => {
    const doc = readFileSync(join(REPO_ROOT, "docs", "deploy.md"), "utf8");
    const destroy = doc.slice(doc.indexOf("### Destroy"), doc.indexOf("\n## ", doc.indexOf("### Destroy")));
    const production = (await evaluated("production")).resources;
    const retained = production.filter((r) => r.options.retainOnDelete);
    expect(retained.map((r) => r.name)).to.include.members(["bucket", "vol-prometheus", "vol-alertmanager", "vol-grafana"]);
    for (const r of retained) {
      expect(destroy, r.name).to.contain(`\`${r.name}\``);
      expect(destroy, `${r.name}'s physical name`).to.contain(
        `\`${String(r.inputs.name ?? r.inputs.title ?? r.inputs.queueName ?? r.inputs.scriptName).replace("production", "<stack>")}\``,
      );
    }
    expect(production.filter((r) => r.options.protect).map((r) => `${r.type} ${r.name}`)).to.deep.equal(["cloudflare:index/r2Bucket:R2Bucket bucket"]);
    expect(destroy).to.contain("--exclude-protected").and.to.contain("pulumi state unprotect");
    // Staging can be torn down whole: nothing of it is protected.
    expect((await evaluated("staging")).resources.filter((r) => r.options.protect)).to.deep.equal([]);
  });
});

describe("infra lifecycle: rollback redeploys old artifacts with the current program, config and secrets", function () {
  this.timeout(120_000);
  let oldArtifacts: string;
  before(() => {
    // The bundles of "an older commit": today's, with the edge and auth bundles changed.
    oldArtifacts = mkdtempSync(join(tmpdir(), "twist-rollback-artifacts-"));
    cpSync(join(REPO_ROOT, "dist"), oldArtifacts, { recursive: true });
    appendFileSync(join(oldArtifacts, "edge", "index.js"), "\n// older edge build\n");
    appendFileSync(join(oldArtifacts, "auth", "main.js"), "\n// older auth build\n");
    // As the rollback workflow does: the image contexts staged with this checkout's Dockerfiles.
    stageImages(oldArtifacts);
  });
  after(() => rmSync(oldArtifacts, { recursive: true, force: true }));

  it("takes the Worker bundle and service images from TWIST_ARTIFACTS_DIR and everything else from the current checkout", async () => {
    const rotated = "rotated-postgres-password-after-the-old-commit";
    const current = await evaluateProgram({ stack: "staging", config: { "twist:postgresPassword": rotated } });
    const rollback = await evaluateProgram({ stack: "staging", config: { "twist:postgresPassword": rotated }, env: { TWIST_ARTIFACTS_DIR: oldArtifacts } });

    // Same resources: nothing added since the old commit is deleted by the rollback.
    expect(rollback.resources.map((r) => r.urn).sort()).to.deep.equal(current.resources.map((r) => r.urn).sort());
    const changes = diffEvaluations(current, rollback);
    const worker = only(rollback.resources, T.script, "worker");
    expect(worker.inputs.contentSha256).to.equal(
      createHash("sha256")
        .update(readFileSync(join(oldArtifacts, "edge", "index.js")))
        .digest("hex"),
    );
    expect(worker.inputs.contentFile).to.equal(relative(REPO_ROOT, join(oldArtifacts, "edge", "index.js")));
    expect(changes.map((c) => `${c.op} ${c.name}`).sort()).to.deep.equal([
      "replace auth",
      "update image-auth",
      "update image-backup",
      "update image-influencer",
      "update image-migrate",
      "update worker",
    ]);
    // The influencer bundles are the same, so only the build context moved: same tag, same containers.
    for (const image of ["image-backup", "image-influencer", "image-migrate"])
      expect(changes.find((c) => c.name === image)!.properties.map((p) => p.path)).to.deep.equal(["build.context"]);

    // The rotated secret stays rotated: Postgres and the services get today's password, not the old commit's.
    const pg = only(rollback.resources, T.container, "postgres");
    expect((pg.inputs.uploads as { file: string; content: string }[]).find((u) => u.file.endsWith("POSTGRES_PASSWORD"))!.content).to.equal(rotated);
    const db = (only(rollback.resources, T.container, "influencer").inputs.uploads as { file: string; content: string }[]).find((u) => u.file.endsWith("DATABASE_URL"))!;
    expect(db.content).to.contain(rotated);
    expect(JSON.stringify(rollback.resources)).not.to.contain(PLACEHOLDER_SECRETS.postgresPassword);
  });

  it("refuses an artifacts directory whose image contexts are not staged, naming the command that stages them", async () => {
    const unstaged = mkdtempSync(join(tmpdir(), "twist-rollback-unstaged-"));
    try {
      cpSync(oldArtifacts, unstaged, { recursive: true });
      rmSync(join(unstaged, "images"), { recursive: true });
      let error: Error | undefined;
      await evaluateProgram({ stack: "staging", env: { TWIST_ARTIFACTS_DIR: unstaged } }).catch((e: Error) => (error = e));
      expect(error?.message).to.contain("TWIST_ARTIFACTS_DIR: ").and.to.contain("lacks the image contexts images/auth/main.js").and.to.contain("node scripts/build.mjs --stage-images");
    } finally {
      rmSync(unstaged, { recursive: true, force: true });
    }
  });

  it("refuses an artifacts directory that lacks a bundle, naming TWIST_ARTIFACTS_DIR and the file", async () => {
    const partial = mkdtempSync(join(tmpdir(), "twist-rollback-partial-"));
    try {
      cpSync(join(REPO_ROOT, "dist", "edge"), join(partial, "edge"), { recursive: true });
      let error: Error | undefined;
      await evaluateProgram({ stack: "staging", env: { TWIST_ARTIFACTS_DIR: partial } }).catch((e: Error) => (error = e));
      expect(error?.message).to.match(/TWIST_ARTIFACTS_DIR: .* lacks auth\/main\.js, influencer\/main\.js/);
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  });
});

describe("infra lifecycle: the migration command", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    // A stand-in for the docker CLI on the VM (unreachable from here): records its argv and stdin.
    dir = mkdtempSync(join(tmpdir(), "twist-fake-docker-"));
    writeFileSync(join(dir, "docker"), `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\ncat > "${dir}/stdin"\nexit "\${FAKE_DOCKER_EXIT:-0}"\n`);
    chmodSync(join(dir, "docker"), 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (exit: number) => {
    const { resources } = await evaluated("staging");
    const migrate = only(resources, T.command, "migrate");
    const result = spawnSync("/bin/sh", ["-c", String(migrate.inputs.create)], {
      input: String(migrate.inputs.stdin),
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FAKE_DOCKER_EXIT: String(exit) },
      encoding: "utf8",
    });
    return { status: result.status, argv: readFileSync(join(dir, "argv"), "utf8"), stdin: readFileSync(join(dir, "stdin"), "utf8") };
  };

  it("passes DATABASE_URL on stdin only and runs migrate.js from the migration image by ID", async () => {
    const { status, argv, stdin } = await run(0);
    expect(status).to.equal(0);
    expect(stdin).to.match(/^postgres:\/\/twist:PLACEHOLDER-postgresPassword-[^@]+@postgres:5432\/twist\n$/);
    expect(argv).not.to.contain("PLACEHOLDER");
    expect(argv.split("\n")).to.include.members(["--rm", "-i", "--network", "twist-data-staging"]);
    expect(argv).to.match(/\nsha256:[0-9a-f]{64}\n/);
  });

  it("fails the create when the migration fails, so nothing is recorded and the next run of the same commit retries", async () => {
    expect((await run(1)).status).to.equal(1);
  });
});
