// ZoneSecurity: what the Cloudflare zone does before a request reaches the VAU Worker, the Access
// application in front of Grafana, and the account's notification policies.
//
// Zone rulesets:
//   http_request_firewall_custom  on the edge hostname's /api/v1/vau*: methods other than
//                                 POST/OPTIONS blocked, and a POST without an Authorization header
//                                 blocked (the Worker would 401 it anyway: this keeps the traffic off
//                                 its CPU budget). 2 of the Free plan's 5 custom rules; custom rules
//                                 may use any field, the host included.
//   http_ratelimit                per IP (and data centre, as the Free plan requires) on the VAU
//                                 routes. On the Free plan a rate-limiting expression may use only the
//                                 URI path and Verified Bot fields, so there it matches the Worker's
//                                 VAU paths exactly and counts them on every hostname of the zone;
//                                 paid plans add the host (vauRuleExpressions).
// A phase entry point is one per zone: if two stacks share a zone only one of them may own these
// rulesets (docs/monitoring.md).
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { ROUTES } from "../../runtime/edge/src/routes";
import { physicalName } from "../naming";

export type CloudflarePlan = "free" | "pro" | "business" | "enterprise";

export interface ZoneSecurityArgs {
  /** Stack name; every ruleset, Access and notification name ends in it. Required. */
  stack: string;
  /** Account of the Access application and the notification policies. Required. */
  accountId: string;
  /** Zone the Worker's custom domain and Grafana's hostname are in; the rulesets bind to it. Required. */
  zoneId: string;
  /** The Worker's hostname (its custom domain in the zone). Required. */
  edgeHostname: string;
  /** Grafana's public hostname, served through the tunnel behind the Access application. Required. */
  grafanaHostname: string;
  /** May open Grafana (the Access policy) and receive the Cloudflare notifications. Required. */
  operatorEmails: string[];
  /** Requests per IP (and data centre) per 10 s on the VAU routes before the zone blocks for 10 s. Required. */
  ipRequestsPer10s: number;
  /**
   * The zone's plan: decides the rate-limiting expression (path only on free) and which notification
   * policies exist (edge errors need Business or Enterprise). Default: `"free"`.
   */
  plan?: CloudflarePlan;
  /** Cloudflare provider with the stack's token. Required. */
  provider: cloudflare.Provider;
}

export interface NotificationDecl {
  /** Resource name notify-<logical>, policy name twist-<logical>-<stack>. */
  logical: string;
  alertType: string;
  /** Plans that offer the alert type. */
  plans: readonly CloudflarePlan[];
  /** Scoped to the stack's zone. */
  zoneFilter: boolean;
  /** Where the email sends the operator (it names the notification and how to confirm it). */
  runbook: string;
}

/**
 * The account's notification policies. The tunnel's health (the backend unreachable) is free on
 * every plan; edge 5xx (`http_alert_edge_error`, Worker errors included) needs Business or
 * Enterprise. Cloudflare has no notification type for Queues: dead letters are alerted by
 * Prometheus (DeadLetterGrowth) and Grafana (EdgeDeadLetters).
 */
export const NOTIFICATIONS: readonly NotificationDecl[] = [
  {
    logical: "tunnel-health",
    alertType: "tunnel_health_event",
    plans: ["free", "pro", "business", "enterprise"],
    zoneFilter: false,
    runbook: "docs/runbooks/service-down.md",
  },
  {
    logical: "edge-errors",
    alertType: "http_alert_edge_error",
    plans: ["business", "enterprise"],
    zoneFilter: true,
    runbook: "docs/runbooks/kv-or-queue-outage.md",
  },
];

/** The Worker's VAU paths (routes.ts), which both rulesets guard. */
export const VAU_PATHS = [...new Set(ROUTES.filter((r) => r.path.startsWith("/api/v1/vau")).map((r) => r.path))];

/**
 * The rule expressions, exported for the tests and the docs. The custom rules match the edge
 * hostname and the /api/v1/vau prefix. The rate-limiting rule on the Free plan may use only the path
 * (and Verified Bot) fields: it compares the path with each VAU route by `eq`, and so counts the VAU
 * paths of every hostname in the zone; on paid plans it adds the host.
 */
export function vauRuleExpressions(edgeHostname: string, plan: CloudflarePlan = "free") {
  const vau = `http.host eq "${edgeHostname}" and starts_with(http.request.uri.path, "/api/v1/vau")`;
  const paths = VAU_PATHS.map((p) => `http.request.uri.path eq "${p}"`).join(" or ");
  return {
    rateLimit: plan === "free" ? `(${paths})` : `(http.host eq "${edgeHostname}" and (${paths}))`,
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
            expression: vauRuleExpressions(args.edgeHostname, args.plan).rateLimit,
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

  /** NOTIFICATIONS that the zone's plan offers, each emailing the operators. */
  private notificationPolicies(args: ZoneSecurityArgs, child: pulumi.CustomResourceOptions): cloudflare.NotificationPolicy[] {
    const mechanisms = { emails: args.operatorEmails.map((id) => ({ id })) };
    return NOTIFICATIONS.filter((n) => n.plans.includes(args.plan ?? "free")).map(
      (n) =>
        new cloudflare.NotificationPolicy(
          `notify-${n.logical}`,
          {
            accountId: args.accountId,
            name: physicalName(n.logical, args.stack),
            alertType: n.alertType,
            enabled: true,
            ...(n.zoneFilter ? { filters: { zones: [args.zoneId] } } : {}),
            mechanisms,
          },
          child,
        ),
    );
  }
}
