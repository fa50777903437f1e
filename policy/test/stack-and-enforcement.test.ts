import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { enforcementFor } from "../lib/rule";
import { stackFromUrn, stackOf, tierOf } from "../lib/stack";
import { packConfigFor, rules } from "../rules";

describe("policy: stacks and enforcement levels", () => {
  it("reads the stack out of a URN", () => {
    expect(stackFromUrn("urn:pulumi:staging::twist::cloudflare:index/r2Bucket:R2Bucket::audit")).to.equal("staging");
    expect(stackFromUrn("not-a-urn")).to.equal(undefined);
    expect(stackFromUrn(undefined)).to.equal(undefined);
  });

  it("prefers the stack named in the pack config over the URN", () => {
    const urn = "urn:pulumi:production::twist::t::n";
    expect(stackOf({ getConfig: <T extends object>() => ({ stack: "staging" }) as T }, urn)).to.equal("staging");
    expect(stackOf({ getConfig: <T extends object>() => ({}) as T }, urn)).to.equal("production");
  });

  it("treats only staging as staging: any other or unknown stack gets production rules", () => {
    expect(tierOf("staging")).to.equal("staging");
    expect(tierOf("acme/staging")).to.equal("staging");
    for (const stack of ["production", "prod", "staging2", "dev", undefined]) expect(tierOf(stack), String(stack)).to.equal("production");
  });

  it("makes every policy mandatory in production and by default", () => {
    for (const rule of rules) {
      expect(rule.policy.enforcementLevel, rule.policy.name).to.equal("mandatory");
      expect(enforcementFor(rule, "production"), rule.policy.name).to.equal("mandatory");
    }
  });

  it("relaxes to advisory on staging only where the rule says so, with a reason", () => {
    const advisory = rules.filter((r) => enforcementFor(r, "staging") === "advisory").map((r) => r.policy.name);
    expect(advisory).to.deep.equal([
      "images-pinned",
      "worker-compatibility-date",
      "queue-consumer-bounded-retries",
      "queue-producers-have-consumers",
      "production-audit-bucket",
      "vau-zone-ruleset",
    ]);
    for (const rule of rules) expect(rule.stagingReason, rule.policy.name).to.have.length.greaterThan(10);
  });

  it("has unique policy names, each with a description that says what to do", () => {
    const names = rules.map((r) => r.policy.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const rule of rules) expect(rule.policy.description, rule.policy.name).to.match(/must|no /i);
  });

  it("keeps policy/config/<stack>.json (passed as --policy-pack-config) in step with the rules", () => {
    for (const stack of ["staging", "production"]) {
      const file = JSON.parse(readFileSync(join(__dirname, "..", "config", `${stack}.json`), "utf8"));
      expect(file, stack).to.deep.equal(packConfigFor(stack));
    }
  });
});
