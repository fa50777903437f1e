// The Backups component under pulumi.runtime.setMocks, per stack: a private bucket with a lifecycle
// rule, a declared API token scoped to that bucket's objects only (its S3 credential derived as secrets), the job container on the data network
// with every secret as a Pulumi-secret file and no secret in plain inputs, and the schedule and
// kept count from stack config (defaults hourly / 48, overridable, malformed values named).
import { expect } from "chai";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { evaluateProgram, type DetailedResource, type EvaluateOptions } from "../offline/evaluate";
import { PLACEHOLDER_MINTED, PLACEHOLDER_SECRETS, placeholderNeedles } from "../offline/placeholders";
import { STACKS, T, evaluated, leaves, only } from "./helpers";

const CHILD_OF_BACKUPS = "twist:backups:Backups";

/** The evaluation's error message (fails if the evaluation succeeds). */
async function failure(options: EvaluateOptions): Promise<string> {
  try {
    await evaluateProgram(options);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected the evaluation to fail");
}

for (const stack of STACKS) {
  describe(`infra backups (${stack})`, () => {
    let resources: DetailedResource[];
    const get = (type: string, name: string) => only(resources, type, name);
    before(async () => {
      resources = (await evaluated(stack)).resources;
    });

    it("declares a private bucket: no r2.dev or custom domain names it", () => {
      const bucket = get(T.r2, "bucket");
      expect(bucket.inputs.name).to.equal(`twist-backups-${stack}`);
      expect(bucket.parent).to.contain(CHILD_OF_BACKUPS);
      const exposures = resources.filter((r) => /r2ManagedDomain|r2CustomDomain/.test(r.type) && r.inputs.bucketName === bucket.inputs.name);
      expect(exposures).to.deep.equal([]);
    });

    it("expires backups by a lifecycle rule on the backup prefix (default 30 days)", () => {
      const lifecycle = get(T.r2Lifecycle, "bucket-lifecycle");
      expect(lifecycle.inputs.bucketName).to.equal(`twist-backups-${stack}`);
      expect(lifecycle.inputs.rules).to.deep.equal([
        {
          id: "expire-old-backups",
          enabled: true,
          conditions: { prefix: "postgres/" },
          deleteObjectsTransition: { condition: { type: "Age", maxAge: 30 * 86_400 } },
          abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: 86_400 } },
        },
      ]);
    });

    it("declares the job's token: object read/write on that one bucket, expiring as configured, bound to the VM's address", () => {
      const token = get(T.apiToken, "bucket-token");
      expect(token.parent).to.contain(CHILD_OF_BACKUPS);
      expect(token.inputs.name).to.equal(`twist-backup-writer-${stack}`);
      expect(token.inputs.policies).to.deep.equal([
        {
          effect: "allow",
          resources: JSON.stringify({ [`com.cloudflare.edge.r2.bucket.0123456789abcdef0123456789abcdef_default_twist-backups-${stack}`]: "*" }),
          // "Workers R2 Storage Bucket Item Write" (read, write, list objects of the named bucket): nothing account-wide.
          permissionGroups: [{ id: "2efd5506f9c8494dacb1fa10a3e7d5b6" }],
        },
      ]);
      expect(token.inputs.expiresOn).to.equal("2027-09-30T00:00:00Z");
      const vm = stack === "production" ? "203.0.113.20" : "203.0.113.10";
      expect(token.inputs.condition).to.deep.equal({ requestIp: { ins: [`${vm}/32`] } });
    });

    it("derives the S3 credential from the token as Pulumi secrets (pulumi.isSecret)", async () => {
      const { outputs } = await evaluateProgram({ stack, program: join(__dirname, "fixtures", "backup-credential-secretness.ts") });
      expect(outputs.secretness).to.deep.equal({ accessKeyId: true, secretAccessKey: true });
    });

    it("runs the job container on the data network (Postgres) and the egress network (R2), run by image ID (content-tagged), hourly, keeping 48", () => {
      const job = get(T.container, "backup");
      expect(job.inputs.name).to.equal(`twist-backup-${stack}`);
      expect(job.inputs.image).to.match(/^sha256:[0-9a-f]{64}$/);
      expect(get(T.image, "image-backup").inputs.imageName).to.match(/^twist-backup:[0-9a-f]{16}$/);
      expect(job.inputs.command).to.deep.equal(["node", "backup.js"]);
      expect(job.inputs.restart).to.equal("unless-stopped");
      expect(job.inputs.networksAdvanced).to.deep.equal([{ name: `twist-data-${stack}`, aliases: ["backup"] }, { name: `twist-edge-${stack}` }]);
      expect(job.inputs.envs).to.include.members([
        `TWIST_ENV=${stack}`,
        "BACKUP_S3_ENDPOINT=https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
        `BACKUP_BUCKET=twist-backups-${stack}`,
        "BACKUP_PREFIX=postgres/",
        "BACKUP_INTERVAL_SECONDS=3600",
        "BACKUP_KEEP=48",
        "METRICS_PORT=9187",
      ]);
      expect(job.inputs.ports ?? []).to.deep.equal([]);
      const image = get(T.image, "image-backup");
      expect((image.inputs.build as { dockerfile: string }).dockerfile).to.match(/runtime\/influencer\/backup\.Dockerfile$/);
      // It starts after the backend (Postgres and its networks).
      const postgres = get(T.container, "postgres");
      expect(job.dependencies.some((d) => d === postgres.urn || d.includes("BackendHost"))).to.equal(true);
    });

    it("exports where the backups are and the bucket credential for restores, the credential only as a secret", async () => {
      const access = (await evaluated(stack)).outputs.backupAccess;
      expect(JSON.stringify(access)).not.to.contain(PLACEHOLDER_MINTED.apiTokenValue("bucket-token"));
      expect(JSON.stringify(access)).not.to.contain("bucket-token-id");
      expect(access).to.deep.equal({
        endpoint: "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
        bucket: `twist-backups-${stack}`,
        accessKeyId: "[secret]",
        secretAccessKey: "[secret]",
      });
    });

    it("hands every secret to the job as a 0400 file whose content is a Pulumi secret, and no secret appears in a plain input", () => {
      const job = get(T.container, "backup");
      const uploads = job.inputs.uploads as { file: string; permissions: string; owner: string; content: string }[];
      expect(uploads.map((u) => u.file)).to.deep.equal([
        "/run/secrets/DATABASE_URL",
        "/run/secrets/BACKUP_S3_ACCESS_KEY_ID",
        "/run/secrets/BACKUP_S3_SECRET_ACCESS_KEY",
        "/run/secrets/BACKUP_ENCRYPTION_KEYS",
      ]);
      for (const [i, u] of uploads.entries()) {
        expect(u.permissions).to.equal("0400");
        expect(u.owner).to.equal("999");
        expect(
          job.secretLeaves.some((s) => s === "uploads" || s.startsWith(`uploads[${i}]`)),
          u.file,
        ).to.equal(true);
      }
      const byFile = Object.fromEntries(uploads.map((u) => [u.file.split("/").pop()!, u.content]));
      expect(byFile.BACKUP_ENCRYPTION_KEYS).to.equal(PLACEHOLDER_SECRETS.backupEncryptionKeys);
      expect(byFile.DATABASE_URL).to.equal(`postgres://twist:${encodeURIComponent(PLACEHOLDER_SECRETS.postgresPassword)}@postgres:5432/twist`);
      // R2's S3 credential: access key id = the token id, secret access key = SHA-256 hex of the token value.
      expect(byFile.BACKUP_S3_SECRET_ACCESS_KEY).to.equal(createHash("sha256").update(PLACEHOLDER_MINTED.apiTokenValue("bucket-token")).digest("hex"));
      expect(byFile.BACKUP_S3_ACCESS_KEY_ID).to.equal("bucket-token-id");

      const needles = [...placeholderNeedles(), byFile.BACKUP_S3_SECRET_ACCESS_KEY!];
      for (const r of resources.filter((x) => x.parent?.includes(CHILD_OF_BACKUPS))) {
        for (const [path, value] of leaves(r.inputs)) {
          if (typeof value !== "string" || r.secretLeaves.some((s) => path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`))) continue;
          for (const needle of needles) expect(value.includes(needle), `${r.name} ${path}`).to.equal(false);
        }
      }
    });
  });
}

describe("infra backups: stack config", () => {
  it("takes the schedule, kept count and retention from stack config", async () => {
    const { resources } = await evaluateProgram({ stack: "staging", config: { "twist:backupIntervalMinutes": "15", "twist:backupKeep": "96", "twist:backupRetentionDays": "7" } });
    const job = only(resources, T.container, "backup");
    expect(job.inputs.envs).to.include.members(["BACKUP_INTERVAL_SECONDS=900", "BACKUP_KEEP=96"]);
    const rules = only(resources, T.r2Lifecycle, "bucket-lifecycle").inputs.rules as { deleteObjectsTransition: { condition: { maxAge: number } } }[];
    expect(rules[0]!.deleteObjectsTransition.condition.maxAge).to.equal(7 * 86_400);
  });

  it("names a malformed value and a missing encryption key", async () => {
    const bad = await failure({ stack: "staging", config: { "twist:backupKeep": "0", "twist:backupIntervalMinutes": "hourly" } });
    expect(bad).to.match(/twist:backupKeep: must be a positive number of backups/);
    expect(bad).to.match(/twist:backupIntervalMinutes: must be a whole number of minutes/);
    const missing = await failure({ stack: "staging", unset: ["twist:backupEncryptionKeys"] });
    expect(missing).to.match(/twist:backupEncryptionKeys: is required \(pulumi config set --secret twist:backupEncryptionKeys/);
    const malformed = await failure({ stack: "staging", config: { "twist:backupEncryptionKeys": "k1:not-32-bytes-of-base64" } });
    expect(malformed).to.match(/twist:backupEncryptionKeys: key "k1" must be base64 of exactly 32 bytes/);
    expect(malformed).not.to.contain("not-32-bytes-of-base64");
  });

  it("names a missing, malformed, past or too distant token expiry", async () => {
    expect(await failure({ stack: "staging", unset: ["twist:backupTokenExpiry"] })).to.match(/twist:backupTokenExpiry: is required/);
    expect(await failure({ stack: "staging", config: { "twist:backupTokenExpiry": "next year" } })).to.match(/twist:backupTokenExpiry: must be an ISO-8601 UTC time/);
    expect(await failure({ stack: "staging", config: { "twist:backupTokenExpiry": "2020-01-01T00:00:00Z" } })).to.match(/twist:backupTokenExpiry: is in the past/);
    const far = `${new Date(Date.now() + 500 * 86_400_000).toISOString().slice(0, 19)}Z`;
    expect(await failure({ stack: "staging", config: { "twist:backupTokenExpiry": far } })).to.match(/twist:backupTokenExpiry: is more than 400 days away/);
  });

  it("leaves the token unbound when the primary VM is named by hostname (the policy pack refuses that in production)", async () => {
    const { resources } = await evaluateProgram({ stack: "staging", config: { "twist:vmHost": "vm.staging.twist.example" } });
    expect(only(resources, T.apiToken, "bucket-token").inputs).not.to.have.property("condition");
  });
});
