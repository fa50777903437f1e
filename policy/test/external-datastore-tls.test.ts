import { expect } from "chai";
import { POSTGRES_TLS_MODES, asDatastoreUrl, staysOnHost, tlsProblem } from "../lib/datastore-urls";
import { externalDatastoreTls as rule } from "../policies/external-datastore-tls";
import { TYPES, baselineCommand, baselineContainer, check } from "./harness";

// Test-only URLs: example.net hosts, no real credential.
const MANAGED_PG = "postgres://twist:not-a-real-password@ep-example.eu-central-1.aws.example.net/twist?sslmode=require"; // scan-secrets:allow test-only sample
const MANAGED_REDIS = "rediss://default:not-a-real-password@eu1-example.upstash.example.net:6379"; // scan-secrets:allow test-only sample

/** The baseline app container with one DATABASE_URL / REDIS_URL secret file each. */
function appWith(files: Record<string, string>): Record<string, unknown> {
  const base = baselineContainer();
  return { ...base, uploads: [...(base.uploads as unknown[]), ...Object.entries(files).map(([name, content]) => ({ file: `/run/secrets/${name}`, content }))] };
}

describe("policy: external-datastore-tls", () => {
  it("passes a managed Postgres with sslmode=require and a managed Redis over rediss://", async () => {
    expect(await check(rule, TYPES.container, appWith({ DATABASE_URL: MANAGED_PG, REDIS_URL: MANAGED_REDIS }))).to.deep.equal([]);
  });

  it("leaves URLs to a container network alias or loopback alone (they stay on the host)", async () => {
    const onHost = appWith({ DATABASE_URL: "postgres://twist:not-a-real-password@postgres:5432/twist", REDIS_URL: "redis://:not-a-real-password@127.0.0.1:6379/0" }); // scan-secrets:allow test-only sample
    expect(await check(rule, TYPES.container, onHost)).to.deep.equal([]);
  });

  it("fails a managed Postgres URL without sslmode, naming the file and not the URL", async () => {
    const messages = await check(rule, TYPES.container, appWith({ DATABASE_URL: MANAGED_PG.replace("?sslmode=require", "") }));
    expect(messages).to.deep.equal([
      'Container "twist-auth-production" file /run/secrets/DATABASE_URL connects to a Postgres server off this host without requiring TLS: its URL has no sslmode. Add sslmode=require (or verify-ca, verify-full) so it cannot fall back to plaintext (twist:databaseUrl).',
    ]);
  });

  it("fails sslmode=prefer, which falls back to plaintext", async () => {
    const messages = await check(rule, TYPES.container, appWith({ DATABASE_URL: MANAGED_PG.replace("require", "prefer") }));
    expect(messages).to.have.length(1);
    expect(messages[0]).to.contain("its URL has sslmode=prefer").and.not.to.contain("not-a-real-password");
  });

  it("fails a managed Redis over redis://", async () => {
    const messages = await check(rule, TYPES.container, appWith({ REDIS_URL: MANAGED_REDIS.replace("rediss:", "redis:") }));
    expect(messages).to.deep.equal([
      'Container "twist-auth-production" file /run/secrets/REDIS_URL connects to a Redis server off this host without requiring TLS: its URL uses redis:// (plaintext). Use the provider\'s rediss:// URL (twist:redisUrl).',
    ]);
  });

  it("checks container env too (a URL without a password is not a secret, but still needs TLS)", async () => {
    const messages = await check(rule, TYPES.container, { ...baselineContainer(), envs: ["CACHE_URL=redis://cache.example.net:6379"] });
    expect(messages).to.have.length(1);
    expect(messages[0]).to.contain("env CACHE_URL connects to a Redis server");
  });

  it("fails a migration command whose stdin is a plaintext managed Postgres URL", async () => {
    const messages = await check(rule, TYPES.remoteCommand, { ...baselineCommand(), stdin: `${MANAGED_PG.replace("sslmode=require", "sslmode=disable")}\n` });
    expect(messages).to.have.length(1);
    expect(messages[0]).to.match(/^Command "subject" stdin connects to a Postgres server off this host without requiring TLS: its URL has sslmode=disable\./);
  });

  it("judges URLs by scheme, host and sslmode", () => {
    for (const mode of POSTGRES_TLS_MODES) expect(tlsProblem(new URL(`postgres://db.example.net/twist?sslmode=${mode}`)), mode).to.equal(undefined);
    expect(tlsProblem(new URL("postgres://db.example.net/twist?sslmode=sometimes"))!.reason).to.equal("has an unknown sslmode");
    expect(tlsProblem(new URL("https://db.example.net/"))).to.equal(undefined);
    expect(staysOnHost(new URL("postgres://postgres:5432/twist"))).to.equal(true);
    expect(staysOnHost(new URL("postgres://[::1]:5432/twist"))).to.equal(true);
    expect(staysOnHost(new URL("postgres://10.0.0.5:5432/twist"))).to.equal(false);
    expect(asDatastoreUrl("requirepass x\nappendonly yes\n")).to.equal(undefined);
    expect(asDatastoreUrl(`${MANAGED_PG}\n`)?.hostname).to.equal("ep-example.eu-central-1.aws.example.net");
  });
});
