import * as cloudflare from "@pulumi/cloudflare";
import { expect } from "chai";
import { vauZoneRuleset } from "../policies/vau-zone-ruleset";
import type { RecordedResource } from "../offline";
import { ACCOUNT_ID, ZONE_ID, checkStack, resource } from "./harness";

const typeOf = (cls: unknown) => (cls as { __pulumiType: string }).__pulumiType;
const VAU = '(http.host eq "vau.twist.example" and starts_with(http.request.uri.path, "/api/v1/vau"))';
// The rate-limiting rule as the program writes it on the Free plan (path fields only) and on paid plans.
const FREE_LIMIT = '(http.request.uri.path eq "/api/v1/vau" or http.request.uri.path eq "/api/v1/vau/batch")';
const PAID_LIMIT = `(http.host eq "vau.twist.example" and ${FREE_LIMIT})`;

/** Compliant baseline: the Worker's custom domain in the zone, and both VAU rulesets bound to it. */
function baseline(): RecordedResource[] {
  return [
    resource(typeOf(cloudflare.WorkersCustomDomain), "vau-domain", { accountId: ACCOUNT_ID, zoneId: ZONE_ID, hostname: "vau.twist.example", service: "twist-vau-production" }),
    resource(typeOf(cloudflare.Ruleset), "vau-firewall", {
      zoneId: ZONE_ID,
      kind: "zone",
      phase: "http_request_firewall_custom",
      rules: [{ ref: "vau_methods", action: "block", expression: VAU.replace(/\)$/, ' and not http.request.method in {"POST" "OPTIONS"})'), enabled: true }],
    }),
    resource(typeOf(cloudflare.Ruleset), "vau-ratelimit", {
      zoneId: ZONE_ID,
      kind: "zone",
      phase: "http_ratelimit",
      rules: [
        {
          ref: "vau_per_ip",
          action: "block",
          expression: FREE_LIMIT,
          ratelimit: { characteristics: ["cf.colo.id", "ip.src"], period: 10, requestsPerPeriod: 50, mitigationTimeout: 10 },
          enabled: true,
        },
      ],
    }),
  ];
}
const change = (name: string, f: (inputs: Record<string, unknown>) => Record<string, unknown>) => baseline().map((r) => (r.name === name ? { ...r, inputs: f(r.inputs) } : r));
const FIREWALL_MISSING = `Zone ${ZONE_ID} routes to a Worker but no zone Ruleset in phase http_request_firewall_custom blocks anything on /api/v1/vau. Add the VAU firewall rules (methods other than POST/OPTIONS, requests without Authorization).`;
const LIMIT_MISSING = `Zone ${ZONE_ID} routes to a Worker but no zone Ruleset in phase http_ratelimit limits /api/v1/vau. Add a per-IP rate-limiting rule (ratelimit with period and requestsPerPeriod).`;

describe("policy: vau-zone-ruleset (stack)", () => {
  const rule = vauZoneRuleset;

  it("passes the zone with both VAU rulesets bound", async () => {
    expect(await checkStack(rule, baseline())).to.deep.equal([]);
  });

  it("fails a zone without the firewall ruleset", async () => {
    expect(
      await checkStack(
        rule,
        baseline().filter((r) => r.name !== "vau-firewall"),
      ),
    ).to.deep.equal([FIREWALL_MISSING]);
  });

  it("fails a zone without the rate-limiting ruleset", async () => {
    expect(
      await checkStack(
        rule,
        baseline().filter((r) => r.name !== "vau-ratelimit"),
      ),
    ).to.deep.equal([LIMIT_MISSING]);
  });

  it("fails rulesets bound to another zone", async () => {
    const other = baseline().map((r) => (r.name.startsWith("vau-") && r.name !== "vau-domain" ? { ...r, inputs: { ...r.inputs, zoneId: "00000000000000000000000000000000" } } : r));
    expect(await checkStack(rule, other)).to.deep.equal([FIREWALL_MISSING, LIMIT_MISSING]);
  });

  it("fails a firewall rule that only logs, a disabled one, or one on another path", async () => {
    const rules = (patch: Record<string, unknown>) => change("vau-firewall", (i) => ({ ...i, rules: (i.rules as object[]).map((x) => ({ ...x, ...patch })) }));
    expect(await checkStack(rule, rules({ action: "log" }))).to.deep.equal([FIREWALL_MISSING]);
    expect(await checkStack(rule, rules({ enabled: false }))).to.deep.equal([FIREWALL_MISSING]);
    expect(await checkStack(rule, rules({ expression: 'starts_with(http.request.uri.path, "/health")' }))).to.deep.equal([FIREWALL_MISSING]);
  });

  it("passes the rate-limiting rule in both of the program's shapes, path only (Free plan) and host and path (paid plans)", async () => {
    for (const expression of [FREE_LIMIT, PAID_LIMIT]) {
      const stack = change("vau-ratelimit", (i) => ({ ...i, rules: (i.rules as object[]).map((x) => ({ ...x, expression })) }));
      expect(await checkStack(rule, stack), expression).to.deep.equal([]);
    }
  });

  it("fails a rate-limiting rule on another path", async () => {
    const stack = change("vau-ratelimit", (i) => ({ ...i, rules: (i.rules as object[]).map((x) => ({ ...x, expression: '(http.request.uri.path eq "/health")' })) }));
    expect(await checkStack(rule, stack)).to.deep.equal([LIMIT_MISSING]);
  });

  it("fails a rate-limiting rule without a ratelimit", async () => {
    const stack = change("vau-ratelimit", (i) => ({ ...i, rules: (i.rules as object[]).map((x) => ({ ...x, ratelimit: undefined })) }));
    expect(await checkStack(rule, stack)).to.deep.equal([LIMIT_MISSING]);
  });

  it("also applies to a Worker route, and to nothing when no zone routes to a Worker", async () => {
    const routed = baseline().map((r) => (r.name === "vau-domain" ? resource(typeOf(cloudflare.WorkersRoute), "vau-route", { zoneId: ZONE_ID, pattern: "vau.twist.example/*" }) : r));
    expect(
      await checkStack(
        rule,
        routed.filter((r) => r.name !== "vau-ratelimit"),
      ),
    ).to.deep.equal([LIMIT_MISSING]);
    expect(await checkStack(rule, [])).to.deep.equal([]);
  });

  it("is advisory on staging and mandatory in production", async () => {
    expect(rule.staging).to.equal("advisory");
    expect(rule.policy.enforcementLevel).to.equal("mandatory");
    expect(
      await checkStack(
        rule,
        baseline().filter((r) => r.name !== "vau-firewall"),
        { stack: "staging" },
      ),
    ).to.deep.equal([FIREWALL_MISSING]);
  });
});
