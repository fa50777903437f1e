// ZoneSecurity: what the Cloudflare zone does before a request reaches the VAU Worker, the Access
// application in front of Grafana, and the account's notification policies.
//
// Zone rulesets (both fit the Free plan: 5 custom rules, 1 rate-limiting rule of 10 s):
//   http_request_firewall_custom  on /api/v1/vau*: methods other than POST/OPTIONS blocked, and a
//                                 POST without an Authorization header blocked (the Worker would 401
//                                 it anyway: this keeps the traffic off its CPU budget);
//   http_ratelimit                per IP (and data centre, as the Free plan requires) on /api/v1/vau*.
// A phase entry point is one per zone: if two stacks share a zone only one of them may own these
// rulesets (docs/monitoring.md).
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { physicalName } from "../naming";

export type CloudflarePlan = "free" | "pro" | "business" | "enterprise";

export interface ZoneSecurityArgs {
  stack: string;
  accountId: string;
  zoneId: string;
  /** The Worker's hostname (its custom domain in the zone). */
  edgeHostname: string;
  /** Grafana's public hostname, served through the tunnel. */
  grafanaHostname: string;
  /** May open Grafana; receive Cloudflare notifications. */
  operatorEmails: string[];
  /** Requests per IP per 10 s on /api/v1/vau* before the zone blocks for 10 s. */
  ipRequestsPer10s: number;
  /** Decides which notification policies exist (some alert types need a paid plan). Default free. */
  plan?: CloudflarePlan;
  provider: cloudflare.Provider;
}

/** The rule expressions, exported for the tests and the docs. */
export function vauRuleExpressions(edgeHostname: string) {
  const vau = `http.host eq "${edgeHostname}" and starts_with(http.request.uri.path, "/api/v1/vau")`;
  return {
    vau: `(${vau})`,
    methods: `(${vau} and not http.request.method in {"POST" "OPTIONS"})`,
    authorization: `(${vau} and http.request.method eq "POST" and not any(http.request.headers.names[*] eq "authorization"))`,
  };
}

export class ZoneSecurity extends pulumi.ComponentResource {
  readonly firewall: cloudflare.Ruleset;
  readonly rateLimit: cloudflare.Ruleset;
  readonly grafanaAccess: cloudflare.ZeroTrustAccessApplication;
  readonly notifications: cloudflare.NotificationPolicy[];

  constructor(name: string, args: ZoneSecurityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("twist:security:ZoneSecurity", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    this.firewall = this.vauFirewall(args, child);
    this.rateLimit = this.vauRateLimit(args, child);
    this.grafanaAccess = this.grafanaBehindAccess(args, child);
    this.notifications = this.notificationPolicies(args, child);
    this.registerOutputs({});
  }

  private vauFirewall(args: ZoneSecurityArgs, child: pulumi.CustomResourceOptions): cloudflare.Ruleset {
    const e = vauRuleExpressions(args.edgeHostname);
    return new cloudflare.Ruleset(
      "vau-firewall",
      {
        zoneId: args.zoneId,
        name: physicalName("vau-firewall", args.stack),
        description: "TWIST: only signed-in POSTs (and CORS preflights) reach the VAU Worker",
        kind: "zone",
        phase: "http_request_firewall_custom",
        rules: [
          { ref: "vau_methods", description: "VAU routes accept POST and OPTIONS only", expression: e.methods, action: "block", enabled: true },
          { ref: "vau_authorization", description: "VAU POSTs must carry Authorization", expression: e.authorization, action: "block", enabled: true },
        ],
      },
      child,
    );
  }

  private vauRateLimit(args: ZoneSecurityArgs, child: pulumi.CustomResourceOptions): cloudflare.Ruleset {
    return new cloudflare.Ruleset(
      "vau-ratelimit",
      {
        zoneId: args.zoneId,
        name: physicalName("vau-ratelimit", args.stack),
        description: "TWIST: per-IP request rate on the VAU routes",
        kind: "zone",
        phase: "http_ratelimit",
        rules: [
          {
            ref: "vau_per_ip",
            description: `more than ${args.ipRequestsPer10s} VAU requests per IP in 10 s`,
            expression: vauRuleExpressions(args.edgeHostname).vau,
            action: "block",
            ratelimit: { characteristics: ["cf.colo.id", "ip.src"], period: 10, requestsPerPeriod: args.ipRequestsPer10s, mitigationTimeout: 10 },
            enabled: true,
          },
        ],
      },
      child,
    );
  }

  private grafanaBehindAccess(args: ZoneSecurityArgs, child: pulumi.CustomResourceOptions): cloudflare.ZeroTrustAccessApplication {
    const operators = new cloudflare.ZeroTrustAccessPolicy(
      "grafana-operators",
      {
        accountId: args.accountId,
        name: physicalName("operators", args.stack),
        decision: "allow",
        includes: args.operatorEmails.map((email) => ({ email: { email } })),
        sessionDuration: "8h",
      },
      child,
    );
    return new cloudflare.ZeroTrustAccessApplication(
      "grafana-access",
      {
        accountId: args.accountId,
        name: physicalName("grafana", args.stack),
        type: "self_hosted",
        domain: args.grafanaHostname,
        sessionDuration: "8h",
        appLauncherVisible: false,
        policies: [{ id: operators.id, precedence: 1 }],
      },
      child,
    );
  }

  /**
   * Free on every plan: the tunnel's health (the backend unreachable). Worker 5xx at the edge
   * (`http_alert_edge_error`) needs Business or Enterprise. Cloudflare has no notification type for
   * Queues: dead letters are alerted by Prometheus (DeadLetterGrowth).
   */
  private notificationPolicies(args: ZoneSecurityArgs, child: pulumi.CustomResourceOptions): cloudflare.NotificationPolicy[] {
    const mechanisms = { emails: args.operatorEmails.map((id) => ({ id })) };
    const policies = [
      new cloudflare.NotificationPolicy(
        "notify-tunnel-health",
        { accountId: args.accountId, name: physicalName("tunnel-health", args.stack), alertType: "tunnel_health_event", enabled: true, mechanisms },
        child,
      ),
    ];
    if (args.plan === "business" || args.plan === "enterprise") {
      policies.push(
        new cloudflare.NotificationPolicy(
          "notify-edge-errors",
          {
            accountId: args.accountId,
            name: physicalName("edge-errors", args.stack),
            alertType: "http_alert_edge_error",
            enabled: true,
            filters: { zones: [args.zoneId] },
            mechanisms,
          },
          child,
        ),
      );
    }
    return policies;
  }
}
