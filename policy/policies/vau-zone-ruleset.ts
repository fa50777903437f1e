// Stack check: the zone that routes to the VAU Worker filters its traffic first. Every zone with a
// Worker custom domain or route has a zone Ruleset in the custom firewall phase with a blocking rule
// on /api/v1/vau, and one in the rate-limiting phase with a rate limit on it.
import * as cloudflare from "@pulumi/cloudflare";
import type { StackValidationPolicy } from "@pulumi/policy";
import { type Rule, configWithDefaults } from "../lib/rule";
import { stackConfigProperty } from "../lib/stack";

interface Config {
  /** Path prefix the rules must cover. */
  pathPrefix: string;
}
const defaults: Config = { pathPrefix: "/api/v1/vau" };

interface RulesetRule {
  action?: string;
  expression?: string;
  ratelimit?: { period?: number; requestsPerPeriod?: number };
  enabled?: boolean;
}

export const vauZoneRuleset: Rule<StackValidationPolicy> = {
  staging: "advisory",
  stagingReason: "a staging zone may be shared or on a plan without spare rules; reported, not blocking",
  policy: {
    name: "vau-zone-ruleset",
    description:
      "Every zone that routes to a Worker must bind a zone Ruleset in the http_request_firewall_custom phase with an enabled block rule on the VAU path, and one in the http_ratelimit phase with an enabled rate limit on it.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { ...stackConfigProperty, pathPrefix: { type: "string", default: defaults.pathPrefix } } },
    validateStack: (args, report) => {
      const { pathPrefix } = configWithDefaults(args, defaults);
      const zones = new Set(args.resources.filter((r) => r.isType(cloudflare.WorkersCustomDomain) || r.isType(cloudflare.WorkersRoute)).map((r) => String(r.props.zoneId ?? "")));
      const rulesets = args.resources.filter((r) => r.isType(cloudflare.Ruleset));
      const covers = (zoneId: string, phase: string, ok: (rule: RulesetRule) => boolean) =>
        rulesets.some(
          (r) =>
            r.props.zoneId === zoneId &&
            r.props.kind === "zone" &&
            r.props.phase === phase &&
            ((r.props.rules ?? []) as RulesetRule[]).some((rule) => rule.enabled !== false && String(rule.expression ?? "").includes(pathPrefix) && ok(rule)),
        );
      for (const zoneId of zones) {
        if (!covers(zoneId, "http_request_firewall_custom", (rule) => rule.action === "block")) {
          report(
            `Zone ${zoneId} routes to a Worker but no zone Ruleset in phase http_request_firewall_custom blocks anything on ${pathPrefix}. Add the VAU firewall rules (methods other than POST/OPTIONS, requests without Authorization).`,
          );
        }
        if (!covers(zoneId, "http_ratelimit", (rule) => Boolean(rule.ratelimit?.period && rule.ratelimit?.requestsPerPeriod))) {
          report(
            `Zone ${zoneId} routes to a Worker but no zone Ruleset in phase http_ratelimit limits ${pathPrefix}. Add a per-IP rate-limiting rule (ratelimit with period and requestsPerPeriod).`,
          );
        }
      }
    },
  },
};
