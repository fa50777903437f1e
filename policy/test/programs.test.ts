// The pack over whole programs, evaluated offline exactly as `npm run plan` does: the real infra
// program for both stacks, and fixture programs that break the rules.
import { expect } from "chai";
import { join } from "node:path";
import { evaluateProgram } from "../../infra/offline/evaluate";
import { type Violation, evaluatePolicies, formatViolation, runResourcePolicy } from "../offline";
import { apiTokenLeastPrivilege } from "../policies/api-token-least-privilege";

const fixture = (name: string) => join(__dirname, "fixtures", `${name}.ts`);

async function violationsOf(stack: string, program?: string): Promise<Violation[]> {
  const { resources } = await evaluateProgram({ stack, ...(program ? { program } : {}) });
  return evaluatePolicies(resources, { stack });
}

const pairs = (violations: Violation[]) => violations.map((v) => `${v.policy} ${v.name}`);
const mandatory = (violations: Violation[]) => violations.filter((v) => v.enforcementLevel === "mandatory");

describe("policy: the real program", () => {
  for (const stack of ["staging", "production"]) {
    it(`${stack} passes with zero mandatory violations`, async () => {
      const found = mandatory(await violationsOf(stack));
      expect(found.map(formatViolation).join("\n"), `mandatory violations on ${stack}`).to.equal("");
    });
  }
});

describe("policy: the backup job's bucket token, as the real program declares it", () => {
  async function tokenMessages(stack: string, config?: Record<string, string>): Promise<string[]> {
    const { resources } = await evaluateProgram({ stack, ...(config ? { config } : {}) });
    const tokens = resources.filter((r) => r.type === "cloudflare:index/apiToken:ApiToken");
    expect(tokens.map((t) => t.name)).to.deep.equal(["bucket-token"]);
    return (await runResourcePolicy(apiTokenLeastPrivilege.policy, tokens[0]!, { stack })).map((v) => v.message);
  }

  for (const stack of ["staging", "production"]) {
    it(`passes api-token-least-privilege on ${stack}`, async () => {
      expect(await tokenMessages(stack)).to.deep.equal([]);
    });
  }

  it("fails it in production when the primary VM is named by hostname (the token would work from any address)", async () => {
    expect(await tokenMessages("production", { "twist:vmHost": "vm.twist.example" })).to.deep.equal([
      'API token "twist-backup-writer-production" can be used from any address. In production set `condition.requestIp.ins` to the CIDRs of the CI runners or hosts that use it.',
    ]);
  });
});

describe("policy: the real program grown past one VM", () => {
  it("two app hosts with a managed Postgres and Redis pass with zero mandatory violations", async () => {
    const key = (ip: string) => `${ip} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbYQrSlyG6nVLf23av0gcibT3JTqgvi1uofnv+lhhXH`;
    const hosts = [
      { name: "a", host: "203.0.113.20", hostKey: key("203.0.113.20") },
      { name: "b", host: "203.0.113.21", hostKey: key("203.0.113.21") },
    ];
    const { resources } = await evaluateProgram({
      stack: "production",
      unset: ["vmHost", "vmUser", "vmSshPort", "vmHostKey", "vmPlatform"].map((k) => `twist:${k}`),
      config: { "twist:backend": JSON.stringify({ hosts }), "twist:database": "external", "twist:redis": "external" },
    });
    const found = mandatory(await evaluatePolicies(resources, { stack: "production" }));
    expect(found.map(formatViolation).join("\n")).to.equal("");
  });
});

describe("policy: fixture programs that break the rules", () => {
  let edge: Violation[];
  let backend: Violation[];

  before(async () => {
    edge = await violationsOf("production", fixture("insecure-edge"));
    backend = await violationsOf("production", fixture("insecure-backend"));
  });

  it("catches every Cloudflare rule in one program, reporting all violations", () => {
    expect(pairs(edge)).to.have.members([
      "no-plaintext-secrets vau",
      "no-plaintext-secrets vau",
      "api-token-least-privilege god-token", // wildcard resource
      "api-token-least-privilege god-token", // permission group off the allow-list
      "api-token-least-privilege god-token", // no expiry
      "api-token-least-privilege god-token", // no IP condition (production)
      "r2-no-public-access exports-public",
      "worker-compatibility-date vau",
      "worker-durable-object-migrations vau",
      "queue-consumer-bounded-retries other-consumer", // maxRetries unset
      "queue-consumer-bounded-retries other-consumer", // no dead-letter queue
      "queue-producers-have-consumers vau",
      "production-audit-bucket production",
    ]);
  });

  it("catches every container rule in one program, reporting all violations", () => {
    expect(pairs(backend)).to.have.members([
      "no-plaintext-secrets postgres",
      "no-plaintext-secrets bootstrap",
      "datastore-no-host-ports postgres",
      "datastore-no-host-ports cache",
      "datastore-ports-one-host postgres", // two hosts publishing a datastore port: each is reported
      "datastore-ports-one-host cache",
      "external-datastore-tls api", // managed Postgres without sslmode
      "container-no-host-privileges agent", // privileged
      "container-no-host-privileges agent", // host network
      "container-no-host-privileges agent", // host PID
      "container-no-host-privileges agent", // Docker socket
      "images-pinned postgres",
      "images-pinned postgres-image",
      "production-audit-bucket production",
    ]);
  });

  it("gives every violation a resource, a policy and a message that says how to fix it", () => {
    for (const v of [...edge, ...backend]) {
      expect(v.message, formatViolation(v)).to.match(/\. [A-Z].+/);
      if (v.policy !== "production-audit-bucket") {
        expect(v.urn, formatViolation(v)).to.match(/^urn:pulumi:production::twist::/);
        expect(v.type).to.contain(":");
      }
    }
  });

  it("marks staging-advisory rules advisory on staging and keeps the rest mandatory", async () => {
    const staging = await violationsOf("staging", fixture("insecure-edge"));
    const levels = new Map(staging.map((v) => [v.policy, v.enforcementLevel]));
    expect(levels.get("worker-compatibility-date")).to.equal("advisory");
    expect(levels.get("queue-consumer-bounded-retries")).to.equal("advisory");
    expect(levels.get("queue-producers-have-consumers")).to.equal("advisory");
    expect(levels.get("no-plaintext-secrets")).to.equal("mandatory");
    expect(levels.get("api-token-least-privilege")).to.equal("mandatory");
    expect(levels.has("production-audit-bucket"), "the audit bucket rule is production-only").to.equal(false);
    expect(staging.filter((v) => v.policy === "api-token-least-privilege")).to.have.length(3); // no IP rule on staging
  });

  it("reports nothing for a program that follows every rule", async () => {
    expect((await violationsOf("production", fixture("compliant"))).map(formatViolation)).to.deep.equal([]);
  });
});
