import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as decl from "../../runtime/edge/bindings";
import { edgeMiniflareOptions } from "../../runtime/edge/local/miniflare";
import { createHash } from "node:crypto";
import { images } from "../../scripts/build.mjs";
import { PINNED_IMAGES, contextDigest } from "../components/backend";
import { REPO_ROOT } from "../offline/evaluate";
import { dependencyOrder } from "../../scripts/plan";
import type { DetailedResource, Evaluation } from "../offline/evaluate";
import { STACKS, T, evaluated, only } from "./helpers";

type Binding = { type: string; name: string; text?: string; namespaceId?: string; bucketName?: string; queueName?: string; className?: string; dataset?: string };

for (const stack of STACKS) {
  describe(`infra graph (${stack})`, () => {
    let ev: Evaluation;
    let resources: DetailedResource[];
    const get = (type: string, name: string) => only(resources, type, name);
    before(async () => {
      ev = await evaluated(stack);
      resources = ev.resources;
    });

    it("declares every resource with a stack-specific physical name", () => {
      const expected: [string, string, string, string][] = [
        [T.kv, "kv-devices", "title", `twist-devices-${stack}`],
        [T.r2, "r2-audit", "name", `twist-audit-${stack}`],
        [T.queue, "queue-rewards", "queueName", `twist-rewards-${stack}`],
        [T.queue, "queue-rewards-dlq", "queueName", `twist-rewards-dlq-${stack}`],
        [T.script, "worker", "scriptName", `twist-vau-${stack}`],
        [T.tunnel, "tunnel", "name", `twist-tunnel-${stack}`],
        [T.network, "net-data", "name", `twist-data-${stack}`],
        [T.network, "net-edge", "name", `twist-edge-${stack}`],
        [T.volume, "vol-pgdata", "name", `twist-pgdata-${stack}`],
        [T.volume, "vol-redisdata", "name", `twist-redisdata-${stack}`],
      ];
      for (const name of ["postgres", "redis", "cloudflared"]) expected.push([T.container, name, "name", `twist-${name}-${stack}`]);
      for (const [type, name, field, value] of expected) expect(get(type, name).inputs[field], `${name}.${field}`).to.equal(value);
      // App containers carry a revision suffix, so a replacement never collides with the container it replaces.
      for (const name of ["auth", "influencer", "settlement"]) expect(get(T.container, name).inputs.name, name).to.match(new RegExp(`^twist-${name}-${stack}-[0-9a-f]{10}$`));
      for (const [type, name] of [
        [T.r2Lifecycle, "r2-audit-lifecycle"],
        [T.r2Public, "r2-audit-public-access"],
        [T.consumer, "queue-rewards-consumer"],
        [T.domain, "worker-domain"],
        [T.tunnelConfig, "tunnel-config"],
        [T.dns, "dns-auth"],
        [T.dns, "dns-api"],
        [T.cfProvider, "cloudflare"],
        [T.dockerProvider, "docker"],
        [T.image, "image-auth"],
        [T.image, "image-influencer"],
        [T.command, "prepare-host"],
        [T.command, "migrate"],
        [T.image, "image-migrate"],
      ] as const) {
        expect(() => get(type, name), `${type} ${name}`).not.to.throw();
      }
      // Every URN is unique and carries the stack.
      expect(new Set(resources.map((r) => r.urn)).size).to.equal(resources.length);
      for (const r of resources) expect(r.urn).to.match(new RegExp(`^urn:pulumi:${stack}::twist::`));
    });

    it("gives the WorkersScript exactly the bindings the Worker runs with under Miniflare", () => {
      const script = get(T.script, "worker");
      const bindings = script.inputs.bindings as Binding[];
      const local = edgeMiniflareOptions({ vars: { JWT_KEYS: "k:0123456789abcdef", VAU_SIGNING_KEYS: "0123456789abcdef", SERVICE_SIGNING_KEYS: "0123456789abcdef" } });
      const worker = (local as { workers: Record<string, any>[] }).workers[0]!;
      const byType = (type: string) =>
        bindings
          .filter((b) => b.type === type)
          .map((b) => b.name)
          .sort();
      expect(byType("kv_namespace")).to.deep.equal(Object.keys(worker.kvNamespaces).sort());
      expect(byType("r2_bucket")).to.deep.equal(Object.keys(worker.r2Buckets).sort());
      expect(byType("queue")).to.deep.equal(Object.keys(worker.queueProducers).sort());
      expect(byType("durable_object_namespace")).to.deep.equal(Object.keys(worker.durableObjects).sort());
      // Plain vars the stack sets plus the secrets: the same names Miniflare binds as text.
      const textNames = [...byType("plain_text"), ...byType("secret_text")].sort();
      const localText = Object.keys(worker.bindings);
      for (const name of localText) expect(textNames, `text binding ${name}`).to.include(name);
      for (const name of textNames) expect([...localText, ...Object.keys(decl.optionalVars)], `declared ${name}`).to.include(name);
      expect(byType("secret_text")).to.deep.equal([...decl.secrets].sort());
      expect(byType("plain_text")).to.include.members([...decl.vars]);

      // Each binding points at this stack's resource.
      const kvId = (b: Binding) => b.namespaceId;
      expect(kvId(bindings.find((b) => b.name === "DEVICES")!)).to.equal("kv-devices-id");
      expect(bindings.find((b) => b.name === "AUDIT")!.bucketName).to.equal(`twist-audit-${stack}`);
      expect(bindings.find((b) => b.name === "REWARDS")!.queueName).to.equal(`twist-rewards-${stack}`);
      for (const d of decl.durableObjects) expect(bindings.find((b) => b.name === d.binding)!.className).to.equal(d.className);
      expect(bindings.find((b) => b.name === "ENVIRONMENT")!.text).to.equal(stack);
      expect(script.dependencies).to.include.members(["kv-devices", "r2-audit", "queue-rewards"].map((n) => resources.find((r) => r.name === n)!.urn));
    });

    it("binds each Analytics Engine dataset of bindings.ts to this stack's dataset", () => {
      const bindings = get(T.script, "worker").inputs.bindings as Binding[];
      const analytics = bindings.filter((b) => b.type === "analytics_engine");
      expect(analytics.map((b) => [b.name, b.dataset])).to.deep.equal(decl.analyticsDatasets.map((a) => [a.binding, `twist_${a.dataset}_${stack}`]));
      expect(analytics.map((b) => [b.name, b.dataset])).to.deep.include.members([
        ["ANALYTICS", `twist_edge_requests_${stack}`],
        ["DEAD_LETTERS", `twist_edge_dead_letters_${stack}`],
      ]);
      // Miniflare binds the same names locally.
      const local = edgeMiniflareOptions({ vars: { JWT_KEYS: "k:0123456789abcdef", VAU_SIGNING_KEYS: "0123456789abcdef", SERVICE_SIGNING_KEYS: "0123456789abcdef" } });
      const worker = (local as { workers: Record<string, any>[] }).workers[0]!;
      expect(analytics.map((b) => b.name).sort()).to.deep.equal(Object.keys(worker.analyticsEngineDatasets).sort());
    });

    it("deploys the built bundle as an ES module with SQLite Durable Object migrations", () => {
      const script = get(T.script, "worker");
      // The bundle travels as a file and its hash: state and diffs hold 64 hex characters, not the script.
      expect(script.inputs.content).to.equal(undefined);
      expect(script.inputs.contentFile).to.equal(join("dist", "edge", "index.js"));
      expect(script.inputs.contentSha256).to.equal(
        createHash("sha256")
          .update(readFileSync(join(REPO_ROOT, "dist", "edge", "index.js")))
          .digest("hex"),
      );
      expect(script.inputs.mainModule).to.equal(decl.WORKER.mainModule);
      expect(script.inputs.compatibilityDate).to.equal(decl.WORKER.compatibilityDate);
      // A new script (the doubles' empty account): every declared step, no oldTag.
      const migrations = script.inputs.migrations as { oldTag?: string; newTag: string; steps: { newSqliteClasses?: string[]; deletedClasses?: string[]; newClasses?: string[] }[] };
      expect(migrations.oldTag).to.equal(undefined);
      expect(migrations.steps).to.have.length(decl.migrations.length);
      for (const step of migrations.steps) expect(step.newClasses).to.equal(undefined);
      const live = new Set<string>();
      for (const step of decl.migrations) {
        for (const c of step.newSqliteClasses ?? []) live.add(c);
        for (const r of step.renamedClasses ?? []) {
          live.delete(r.from);
          live.add(r.to);
        }
        for (const c of step.deletedClasses ?? []) live.delete(c);
      }
      // Every bound class exists; a class kept only to drain its storage (VauDedupe) may stay too.
      expect([...live]).to.include.members(decl.durableObjects.map((d) => d.className));
      expect(migrations.newTag).to.equal(decl.migrations[decl.migrations.length - 1]!.tag);
    });

    it("points the queue consumer at the Worker and the dead-letter queue", () => {
      const consumer = get(T.consumer, "queue-rewards-consumer");
      const declared = decl.queues.find((q) => q.consumer)!.consumer!;
      expect(consumer.inputs).to.include({ type: "worker", scriptName: `twist-vau-${stack}`, queueId: "queue-rewards-queue-id" });
      expect(consumer.inputs.deadLetterQueue).to.equal(`twist-${declared.deadLetterQueue}-${stack}`);
      expect(consumer.inputs.settings).to.deep.equal({
        batchSize: declared.maxBatchSize,
        maxRetries: declared.maxRetries,
        maxWaitTimeMs: declared.maxBatchTimeoutSeconds * 1000,
        retryDelay: declared.retryDelaySeconds,
      });
      expect(consumer.dependencies).to.include.members([get(T.queue, "queue-rewards-dlq").urn, get(T.queue, "queue-rewards").urn, get(T.script, "worker").urn]);
    });

    it("keeps the audit bucket private with an expiry lifecycle rule", () => {
      expect(get(T.r2Public, "r2-audit-public-access").inputs.enabled).to.equal(false);
      const rules = get(T.r2Lifecycle, "r2-audit-lifecycle").inputs.rules as { enabled: boolean; deleteObjectsTransition: { condition: { type: string; maxAge: number } } }[];
      expect(rules).to.have.length(1);
      expect(rules[0]!.enabled).to.equal(true);
      expect(rules[0]!.deleteObjectsTransition.condition).to.deep.equal({ type: "Age", maxAge: decl.r2Buckets[0]!.retentionDays * 86_400 });
    });

    it("runs the migration to completion before the API and the settlement worker start", () => {
      const migrate = get(T.command, "migrate");
      expect(migrate.inputs.create)
        .to.match(/^set -eu\ndocker run --rm -i /)
        .and.to.contain("exec node migrate.js");
      expect((migrate.inputs.triggers as string[])[0]).to.match(/^sha256:[0-9a-f]{64}$/);
      expect(migrate.inputs.create).to.contain((migrate.inputs.triggers as string[])[0]);
      for (const name of ["influencer", "settlement"]) {
        const api = get(T.container, name);
        expect(api.dependencies, name).to.include(migrate.urn);
        const order = dependencyOrder(resources).map((r) => r.name);
        expect(order.indexOf("migrate"), name).to.be.lessThan(order.indexOf(name));
      }
      expect(get(T.container, "influencer").inputs.command).to.deep.equal(["node", "main.js"]);
      expect(get(T.container, "settlement").inputs.command).to.deep.equal(["node", "worker.js"]);
      expect(migrate.dependencies).to.include(get(T.container, "postgres").urn);
      expect(migrate.dependencies).to.include(get(T.image, "image-migrate").urn);
    });

    it("publishes no host port for Postgres, Redis or any service; data stays on an internal network", () => {
      for (const r of resources.filter((x) => x.type === T.container)) {
        expect(r.inputs.ports ?? [], `${r.name} ports`).to.deep.equal([]);
        expect(r.inputs.publishAllPorts ?? false, `${r.name} publishAllPorts`).to.equal(false);
        expect(r.inputs.networkMode ?? "bridge", `${r.name} networkMode`).not.to.equal("host");
      }
      expect(get(T.network, "net-data").inputs.internal).to.equal(true);
      for (const name of ["postgres", "redis"]) {
        const c = get(T.container, name);
        expect(
          (c.inputs.networksAdvanced as { name: string }[]).map((n) => n.name),
          name,
        ).to.deep.equal([`twist-data-${stack}`]);
        expect(c.inputs.healthcheck, `${name} healthcheck`).to.have.property("tests").that.is.not.empty;
        expect(c.inputs.restart).to.equal("unless-stopped");
      }
      const ingress = (get(T.tunnelConfig, "tunnel-config").inputs.config as { ingresses: { service: string }[] }).ingresses.map((i) => i.service);
      expect(ingress.some((s) => /postgres|redis|5432|6379/.test(s))).to.equal(false);
    });

    it("pins third-party images, tags service images with their content digest and runs them by image ID", () => {
      expect(get(T.remoteImage, "image-postgres").inputs.name).to.equal(PINNED_IMAGES.postgres);
      for (const r of resources.filter((x) => x.type === T.remoteImage)) expect(r.inputs.name).to.match(/^[\w./-]+:v?\d[\w.-]*$/);
      // Every image of scripts/build.mjs, built from its staged context (not the repository, not the
      // whole bundle directory) with its Dockerfile, and tagged with the digest of both.
      expect(
        resources
          .filter((r) => r.type === T.image)
          .map((r) => r.name)
          .sort(),
      ).to.deep.equal(images.map((i) => `image-${i.name}`).sort());
      for (const { name, dockerfile } of images) {
        const image = get(T.image, `image-${name}`);
        const context = join("dist", "images", name);
        expect(image.inputs.imageName).to.equal(`twist-${name}:${contextDigest(join(REPO_ROOT, context), join(REPO_ROOT, dockerfile)).slice(0, 16)}`);
        expect(image.inputs.build).to.deep.include({ context, dockerfile });
      }
      for (const name of ["auth", "influencer", "settlement"]) expect(get(T.container, name).inputs.image, name).to.match(/^sha256:[0-9a-f]{64}$/);
    });

    it("reaches the VM over ssh with host-key checking", () => {
      const provider = get(T.dockerProvider, "docker");
      expect(provider.inputs.host).to.match(/^ssh:\/\/twist@[\w.:[\]-]+:22$/);
      const sshOpts = JSON.parse(String(provider.inputs.sshOpts)) as string[];
      expect(sshOpts).to.include("StrictHostKeyChecking=yes");
      // The host key comes from config through KnownHostsCommand, the key from ssh-agent: no file on disk
      // that a later `pulumi refresh` or `destroy` would miss.
      expect(sshOpts.find((o) => o.startsWith("KnownHostsCommand="))).to.match(/^KnownHostsCommand=\/bin\/echo \S+ ssh-ed25519 [A-Za-z0-9+/=]+$/);
      expect(sshOpts.join(" ")).not.to.match(/-i |IdentityFile|\/tmp\//);
      expect(provider.dependencies).to.include(get(T.command, "prepare-host").urn);
    });

    it("mints one API token only, the backup job's bucket-scoped one (the provider's credential is the job's deploy token, never an input)", () => {
      expect(resources.filter((r) => r.type === T.apiToken).map((r) => r.name)).to.deep.equal(["bucket-token"]);
    });

    it("exports the edge URL, backend URLs, Worker name, image tags and the commit", () => {
      expect(ev.outputs.workerName).to.equal(`twist-vau-${stack}`);
      expect(ev.outputs.edgeUrl).to.match(/^https:\/\/vau/);
      expect(ev.outputs.backendUrls).to.have.keys(["auth", "influencer"]);
      expect(ev.outputs.commit)
        .to.be.a("string")
        .and.match(/^[0-9a-f]{7,40}/);
      expect(ev.outputs.imageTags).to.deep.equal({ auth: get(T.image, "image-auth").inputs.imageName, influencer: get(T.image, "image-influencer").inputs.imageName });
    });
  });
}
