import { expect } from "chai";
import { join } from "node:path";
import { SECRET_KEYS } from "../config";
import { evaluateProgram, type DetailedResource, type Evaluation } from "../offline/evaluate";
import { PLACEHOLDER_SECRETS, placeholderNeedles } from "../offline/placeholders";
import { STACKS, T, evaluated, leaves, only } from "./helpers";

const isUnder = (path: string, secretLeaves: string[]) => secretLeaves.some((s) => path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`));

for (const stack of STACKS) {
  describe(`infra secrets (${stack})`, () => {
    let ev: Evaluation;
    let resources: DetailedResource[];
    const get = (type: string, name: string) => only(resources, type, name);
    before(async () => {
      ev = await evaluated(stack);
      resources = ev.resources;
    });

    it("reads every secret config key with requireSecret: each one is a Pulumi secret", async () => {
      const { outputs } = await evaluateProgram({ stack, program: join(__dirname, "fixtures", "config-secretness.ts") });
      const secretness = outputs.secretness as Record<string, boolean>;
      // The default shape: ledger settlement, Postgres and Redis in containers.
      const expectedKeys = Object.keys(SECRET_KEYS).filter((k) => !["solanaPayerSecretKey", "databaseUrl", "redisUrl"].includes(k));
      expect(Object.keys(secretness).sort()).to.deep.equal(expectedKeys.sort());
      for (const [key, secret] of Object.entries(secretness)) expect(secret, key).to.equal(true);
    });

    it("reads the external datastore URLs as Pulumi secrets, and the container passwords not at all", async () => {
      const config = { "twist:database": "external", "twist:redis": "external" };
      const { outputs } = await evaluateProgram({ stack, config, program: join(__dirname, "fixtures", "config-secretness.ts") });
      const secretness = outputs.secretness as Record<string, boolean>;
      expect(secretness).to.include({ databaseUrl: true, redisUrl: true, "backend.database.url": true, "backend.redis.url": true });
      expect(secretness).not.to.have.any.keys("postgresPassword", "redisPassword");
    });

    it("gives the Cloudflare provider no credential input: its token comes from CLOUDFLARE_API_TOKEN, never config or state", () => {
      const provider = get(T.cfProvider, "cloudflare");
      expect(Object.keys(provider.inputs).filter((k) => /api|token|key|email/i.test(k))).to.deep.equal([]);
      // A preview decrypts staging's config with its passphrase: no Cloudflare credential is in it.
      expect(Object.keys(SECRET_KEYS).filter((k) => /cloudflare/i.test(k))).to.deep.equal([]);
    });

    it("passes every secret as a secret input (JWT and signing keys, passwords, SSH key, tunnel secret and token)", () => {
      expect(get(T.command, "prepare-host").secretLeaves).to.include("connection");
      expect(get(T.tunnel, "tunnel").secretLeaves).to.include("tunnelSecret");
      const bindings = get(T.script, "worker").inputs.bindings as { type: string; name: string }[];
      const script = get(T.script, "worker");
      for (const [i, b] of bindings.entries()) {
        expect(script.secretLeaves.includes(`bindings[${i}].text`), `${b.name}`).to.equal(b.type === "secret_text");
      }
      for (const r of resources.filter((x) => x.type === T.container)) {
        const uploads = (r.inputs.uploads ?? []) as { file: string }[];
        expect(uploads.length, `${r.name} has secret files`).to.be.greaterThan(0);
        // Files under /run/secrets are secrets; the monitoring containers also get plain config files
        // (Prometheus has nothing secret: it scrapes the internal network without credentials).
        if (r.name !== "prometheus")
          expect(
            uploads.some((u) => u.file.startsWith("/run/secrets/")),
            `${r.name} has a file under /run/secrets`,
          ).to.equal(true);
        for (const [i, u] of uploads.entries()) {
          if (!u.file.startsWith("/run/secrets/")) continue;
          expect(r.secretLeaves, `${r.name} ${u.file}`).to.include(`uploads[${i}].content`);
        }
        if (r.name !== "prometheus") expect(r.secretPaths, r.name).to.include("uploads");
      }
      const files = (name: string) => (get(T.container, name).inputs.uploads as { file: string }[]).map((u) => u.file.replace("/run/secrets/", ""));
      // Each container gets only the secrets its config reads (runtime/<service>/src/config.ts).
      for (const name of ["influencer", "settlement"]) {
        expect(
          files(name).filter((f) => f !== "SOLANA_PAYER_SECRET_KEY"),
          name,
        ).to.deep.equal(["DATABASE_URL", "REDIS_URL", "JWT_KEYS", "IP_HASH_SALT", "SERVICE_SIGNING_KEYS", "MERCHANT_SIGNING_KEYS", "SMTP_PASSWORD"]);
      }
      expect(files("auth")).to.deep.equal(["REDIS_URL", "JWT_KEYS"]);
      // The migration's DATABASE_URL travels on stdin, a secret input; its command line holds none.
      expect(get(T.command, "migrate").secretLeaves).to.include("stdin");
      expect(get(T.command, "migrate").secretLeaves).not.to.include("create");
      expect(files("cloudflared")).to.deep.equal(["TUNNEL_TOKEN"]);
    });

    it("computes cloudflared's tunnel token from the account, the tunnel and its secret (no API read, which needs Tunnel Write)", () => {
      const token = (get(T.container, "cloudflared").inputs.uploads as { file: string; content: string }[]).find((u) => u.file === "/run/secrets/TUNNEL_TOKEN")!;
      const decoded = JSON.parse(Buffer.from(token.content, "base64").toString("utf8")) as Record<string, string>;
      expect(decoded).to.deep.equal({ a: get(T.tunnel, "tunnel").inputs.accountId, t: "tunnel-id", s: PLACEHOLDER_SECRETS.tunnelSecret });
      // cloudflared decodes "s" as the secret's bytes: the same bytes the tunnel was created with.
      expect(Buffer.from(decoded.s!, "base64").equals(Buffer.from(String(get(T.tunnel, "tunnel").inputs.tunnelSecret), "base64"))).to.equal(true);
    });

    it("puts no secret value into any plaintext input of any resource", () => {
      const needles = placeholderNeedles();
      expect(needles).to.include(PLACEHOLDER_SECRETS.postgresPassword);
      const leaks: string[] = [];
      let scanned = 0;
      for (const r of resources) {
        for (const [path, value] of leaves(r.inputs)) {
          if (typeof value !== "string" || isUnder(path, r.secretLeaves)) continue;
          scanned++;
          for (const needle of needles) if (value.includes(needle)) leaks.push(`${r.type} ${r.name} ${path}`);
          if (/PLACEHOLDER/.test(value)) leaks.push(`${r.type} ${r.name} ${path} (marker)`);
        }
      }
      expect(scanned).to.be.greaterThan(100);
      expect(leaks).to.deep.equal([]);
      // The scan does see secrets where they belong.
      const worker = get(T.script, "worker");
      expect(JSON.stringify(worker.inputs)).to.contain(PLACEHOLDER_SECRETS.jwtKeys);
    });

    it("keeps container env and command lines free of secrets", () => {
      for (const r of resources.filter((x) => x.type === T.container)) {
        const plain = JSON.stringify([r.inputs.envs ?? [], r.inputs.command ?? [], r.inputs.entrypoints ?? []]);
        expect(plain, r.name).not.to.match(/PLACEHOLDER|password=|:\/\/[^"]*:[^"]*@/i);
        expect(r.secretPaths, r.name).not.to.include("envs");
      }
    });
  });
}
