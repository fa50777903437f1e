// Stack isolation in the workflows (docs/secrets.md): each stack's secrets carry its name and live in
// its own GitHub Environment; nothing a pull request runs can name a production secret. GitHub
// itself (which secrets each environment holds) is outside this repository: the docs say how to set
// it up, this test checks the workflows keep to it.
import { expect } from "chai";
import { load } from "js-yaml";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
const WORKFLOWS = join(ROOT, ".github", "workflows");
type Job = { uses?: string; environment?: string | { name?: string }; secrets?: unknown; [k: string]: unknown };
type Workflow = { on?: Record<string, unknown> | string | string[]; jobs?: Record<string, Job> };

const read = (file: string) => load(readFileSync(join(WORKFLOWS, file), "utf8")) as Workflow;
const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
const secretNames = (value: unknown) => [...JSON.stringify(value).matchAll(/secrets\.([A-Z][A-Z0-9_]*)\b/g)].map((m) => m[1]!);
const triggers = (wf: Workflow) => (typeof wf.on === "string" ? [wf.on] : Array.isArray(wf.on) ? wf.on : Object.keys(wf.on ?? {}));
const envName = (job: Job) => (typeof job.environment === "string" ? job.environment : job.environment?.name);

/** Secret names a job can reach: its own, plus those of a local reusable workflow it calls. */
function reachableSecrets(job: Job): string[] {
  const names = secretNames(job);
  if (job.uses?.startsWith("./.github/workflows/")) names.push(...Object.values(read(job.uses.split("/").pop()!).jobs ?? {}).flatMap(reachableSecrets));
  return names;
}

describe("workflows: stack isolation", () => {
  const prWorkflows = files.filter((f) => triggers(read(f)).some((t) => t === "pull_request" || t === "pull_request_target"));

  it("finds the pull-request workflows", () => {
    expect(prWorkflows).to.include("preview.yml");
  });

  for (const file of prWorkflows) {
    it(`${file}: no job a pull request runs can see a production secret name or the production environment`, () => {
      for (const [name, job] of Object.entries(read(file).jobs ?? {})) {
        expect(job.secrets, `${file} ${name} inherits every secret`).not.to.equal("inherit");
        expect(
          reachableSecrets(job).filter((s) => /PRODUCTION/i.test(s)),
          `${file} ${name}`,
        ).to.deep.equal([]);
        expect(envName(job) ?? "", `${file} ${name}`).not.to.match(/production/i);
      }
    });
  }

  it("the preview sees only its own read-only credentials: staging state, staging's passphrase, the read-only Cloudflare token", () => {
    const preview = read("preview.yml").jobs!.preview!;
    expect([...new Set(secretNames(preview))].sort()).to.deep.equal([
      "STAGING_PREVIEW_CLOUDFLARE_API_TOKEN",
      "STAGING_PREVIEW_STATE_ACCESS_KEY_ID",
      "STAGING_PREVIEW_STATE_SECRET_ACCESS_KEY",
      "STAGING_PULUMI_BACKEND_URL",
      "STAGING_PULUMI_CONFIG_PASSPHRASE",
    ]);
    expect(envName(preview)).to.equal("staging-preview");
    // The provider's token is the read-only one (infra/index.ts gives the provider no credential input).
    const step = (preview.steps as { id?: string; env?: Record<string, string> }[]).find((s) => s.id === "preview")!;
    expect(step.env!.CLOUDFLARE_API_TOKEN).to.equal("${{ secrets.STAGING_PREVIEW_CLOUDFLARE_API_TOKEN }}");
  });

  for (const file of prWorkflows) {
    it(`${file}: no job a pull request runs can see a Cloudflare deploy token; the only Cloudflare secret is the read-only preview token`, () => {
      for (const [name, job] of Object.entries(read(file).jobs ?? {})) {
        const cloudflare = reachableSecrets(job).filter((s) => /CLOUDFLARE/i.test(s));
        expect(
          cloudflare.filter((s) => s !== "STAGING_PREVIEW_CLOUDFLARE_API_TOKEN"),
          `${file} ${name}`,
        ).to.deep.equal([]);
      }
      expect(readFileSync(join(WORKFLOWS, file), "utf8")).not.to.match(/\b(STAGING|PRODUCTION)_CLOUDFLARE_API_TOKEN\b/);
    });
  }

  it("no Cloudflare token is a stack config secret, so decrypting staging's config (as a preview can) yields none", () => {
    for (const stack of ["staging", "production"]) expect(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8"), stack).not.to.match(/cloudflareApiToken|cloudflare:apiToken/);
    // The one stack config value a pull request's job reads is staging's SSH key (for the docker provider).
    for (const f of prWorkflows) for (const [, key] of readFileSync(join(WORKFLOWS, f), "utf8").matchAll(/pulumi config get (\S+)/g)) expect(key, f).to.equal("twist:vmSshPrivateKey");
  });

  it("the deploy job picks each stack's own passphrase, state credentials and Cloudflare deploy token, in the environment named like the stack", () => {
    const up = read("pulumi-up.yml").jobs!.up!;
    expect(envName(up)).to.equal("${{ inputs.stack }}");
    const env = up.env as Record<string, string>;
    for (const key of ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "CLOUDFLARE_API_TOKEN"]) {
      expect(env[key], key).to.match(/^\$\{\{ inputs\.stack == 'production' && secrets\.PRODUCTION_\w+ \|\| secrets\.STAGING_\w+ \}\}$/);
    }
  });

  it("docs/secrets.md lists every secret a workflow names", () => {
    const doc = readFileSync(join(ROOT, "docs", "secrets.md"), "utf8");
    const used = new Set(files.flatMap((f) => secretNames(read(f))).filter((s) => s !== "GITHUB_TOKEN"));
    for (const name of used) expect(doc, name).to.contain(`\`${name}\``);
  });
});
