import { expect } from "chai";
import { NOTIFICATIONS, VAU_PATHS, vauRuleExpressions } from "../components/zone-security";
import { MONITORING_IMAGES } from "../components/monitoring";
import { type DetailedResource, evaluateProgram } from "../offline/evaluate";
import { DASHBOARD_FILES, deadLettersSql } from "../../ops/grafana/provisioning";
import { RULE_FILES } from "../../ops/prometheus/config";
import { STACKS, T, evaluated, only } from "./helpers";

const R = {
  ruleset: "cloudflare:index/ruleset:Ruleset",
  accessApp: "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication",
  accessPolicy: "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy",
  notification: "cloudflare:index/notificationPolicy:NotificationPolicy",
};
type Upload = { file: string; content: string; permissions?: string };
type Rule = { ref: string; expression: string; action: string; ratelimit?: Record<string, unknown> };

for (const stack of STACKS) {
  describe(`infra monitoring and zone security (${stack})`, () => {
    let resources: DetailedResource[];
    const get = (type: string, name: string) => only(resources, type, name);
    const edgeHost = stack === "production" ? "vau.twist.example" : "vau-staging.twist.example";
    const grafanaHost = stack === "production" ? "grafana.twist.example" : "grafana-staging.twist.example";
    before(async () => {
      resources = (await evaluated(stack)).resources;
    });

    it("binds both VAU rulesets to the zone with each rule: method allow-list, Authorization required, per-IP rate limit", () => {
      const e = vauRuleExpressions(edgeHost);
      const firewall = get(R.ruleset, "vau-firewall").inputs;
      expect(firewall).to.include({ zoneId: "fedcba9876543210fedcba9876543210", kind: "zone", phase: "http_request_firewall_custom" });
      const rules = firewall.rules as Rule[];
      expect(rules.map((r) => [r.ref, r.action, r.expression])).to.deep.equal([
        ["vau_methods", "block", e.methods],
        ["vau_authorization", "block", e.authorization],
      ]);
      expect(e.methods).to.contain('not http.request.method in {"POST" "OPTIONS"}').and.contain(`http.host eq "${edgeHost}"`);
      expect(e.authorization).to.contain('not any(http.request.headers.names[*] eq "authorization")');

      const limit = get(R.ruleset, "vau-ratelimit").inputs;
      expect(limit).to.include({ zoneId: "fedcba9876543210fedcba9876543210", kind: "zone", phase: "http_ratelimit" });
      const [perIp] = limit.rules as Rule[];
      // The stack files leave twist:cloudflarePlan at its default, free: a path-only expression, each
      // VAU route compared by eq (the Free plan allows only the path and Verified Bot fields here).
      expect(perIp).to.include({ ref: "vau_per_ip", action: "block", expression: '(http.request.uri.path eq "/api/v1/vau" or http.request.uri.path eq "/api/v1/vau/batch")' });
      expect(perIp!.expression).to.equal(e.rateLimit).and.not.contain("http.host");
      // The Free plan's only allowed shape: 10 s period and mitigation, counted per IP and colo.
      expect(perIp!.ratelimit).to.deep.equal({ characteristics: ["cf.colo.id", "ip.src"], period: 10, requestsPerPeriod: 50, mitigationTimeout: 10 });
    });

    it("serves Grafana only through the tunnel, behind an Access application allowing the operators' emails", () => {
      const app = get(R.accessApp, "grafana-access").inputs;
      expect(app).to.include({ type: "self_hosted", domain: grafanaHost, accountId: "0123456789abcdef0123456789abcdef" });
      const policy = get(R.accessPolicy, "grafana-operators").inputs;
      expect(policy).to.include({ decision: "allow" });
      expect(policy.includes).to.deep.equal([{ email: { email: "ops@twist.example" } }]);
      expect((app.policies as { precedence: number }[])[0]).to.include({ precedence: 1 });
      const ingress = (get(T.tunnelConfig, "tunnel-config").inputs.config as { ingresses: { hostname?: string; service: string }[] }).ingresses;
      expect(ingress).to.deep.include({ hostname: grafanaHost, service: "http://grafana:3000" });
      expect(ingress.at(-1)).to.deep.equal({ service: "http_status:404" });
      expect(get(T.dns, "dns-grafana").inputs).to.include({ name: grafanaHost, type: "CNAME", proxied: true });
    });

    it("declares the notification policies the Free plan offers (tunnel health), not the paid ones", () => {
      const policies = resources.filter((r) => r.type === R.notification);
      expect(policies.map((p) => p.inputs.alertType)).to.deep.equal(["tunnel_health_event"]);
      expect(policies[0]!.inputs.mechanisms).to.deep.equal({ emails: [{ id: "ops@twist.example" }] });
    });

    it("provisions the edge dashboard and the EdgeDeadLetters alert with this stack's Analytics Engine tables", () => {
      const uploads = get(T.container, "grafana").inputs.uploads as Upload[];
      const edge = uploads.find((u) => u.file === "/etc/grafana/dashboards/edge.json")!.content;
      const sql = (JSON.parse(edge) as { panels: { targets: { rawSql: string }[] }[] }).panels.flatMap((p) => p.targets.map((t) => t.rawSql));
      expect(sql.filter((q) => q.includes(`FROM twist_edge_requests_${stack} `))).to.have.length(4);
      expect(sql.filter((q) => q.includes(`FROM twist_edge_dead_letters_${stack} `))).to.have.length(1);
      expect(edge).to.not.contain("@dataset(");
      const other = stack === "production" ? "staging" : "production";
      expect(edge).to.not.contain(`_${other}`);

      const alerting = JSON.parse(uploads.find((u) => u.file === "/etc/grafana/provisioning/alerting/twist.yml")!.content) as {
        contactPoints: { receivers: { type: string; settings: { url: string } }[] }[];
        groups: { rules: { title: string; condition: string; data: { refId: string; datasourceUid: string; model: { rawSql?: string; expression?: string } }[] }[] }[];
      };
      // The same webhook as Alertmanager's receiver, from the same secret file.
      expect(alerting.contactPoints[0]!.receivers[0]).to.deep.include({ type: "slack", settings: { url: "$__file{/run/secrets/ALERT_WEBHOOK_URL}" } });
      const [rule] = alerting.groups[0]!.rules;
      expect(rule!.title).to.equal("EdgeDeadLetters");
      expect(rule!.data[0]).to.deep.include({ refId: "A", datasourceUid: "analytics-engine" });
      expect(rule!.data[0]!.model.rawSql).to.equal(deadLettersSql(`twist_edge_dead_letters_${stack}`));
    });

    it("runs Prometheus, Alertmanager and Grafana pinned, with no host port, Prometheus on the internal network only", () => {
      for (const name of ["prometheus", "alertmanager", "grafana"] as const) {
        const c = get(T.container, name).inputs;
        expect(c.name).to.equal(`twist-${name}-${stack}`);
        expect(c.ports ?? [], name).to.deep.equal([]);
        expect(c.restart).to.equal("unless-stopped");
        expect(get(T.remoteImage, `image-${name}`).inputs.name).to.equal(MONITORING_IMAGES[name]);
      }
      const nets = (name: string) => (get(T.container, name).inputs.networksAdvanced as { name: string }[]).map((n) => n.name);
      expect(nets("prometheus")).to.deep.equal([`twist-data-${stack}`]);
      expect(get(T.network, "net-data").inputs.internal).to.equal(true);
      expect(nets("grafana")).to.deep.equal([`twist-data-${stack}`, `twist-edge-${stack}`]);
    });

    it("scrapes the private metrics listeners of auth, influencer, the settlement worker and the backup job by network alias and loads every rule file", () => {
      const uploads = get(T.container, "prometheus").inputs.uploads as Upload[];
      const config = JSON.parse(uploads.find((u) => u.file === "/etc/prometheus/prometheus.yml")!.content) as {
        scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
        rule_files: string[];
        alerting: unknown;
      };
      expect(config.scrape_configs.map((j) => [j.job_name, j.static_configs[0]!.targets])).to.deep.equal([
        ["auth", ["auth:9101"]],
        ["influencer", ["influencer:9103"]],
        ["settlement", ["settlement:3004"]],
        ["backup", ["backup:9187"]],
      ]);
      expect(config.rule_files).to.deep.equal(RULE_FILES.map((f) => `/etc/prometheus/rules/${f}`));
      for (const f of RULE_FILES) expect(uploads.map((u) => u.file)).to.include(`/etc/prometheus/rules/${f}`);
      expect(config.alerting).to.deep.equal({ alertmanagers: [{ static_configs: [{ targets: ["alertmanager:9093"] }] }] });
    });

    it("hands the webhook URL, the Grafana password and the analytics token over as secret files only", () => {
      const secretFile = (container: string, file: string) => {
        const r = get(T.container, container);
        const uploads = r.inputs.uploads as Upload[];
        const i = uploads.findIndex((u) => u.file === `/run/secrets/${file}`);
        expect(i, `${container} ${file}`).to.be.greaterThan(-1);
        expect(r.secretLeaves).to.include(`uploads[${i}].content`);
        expect(uploads[i]!.permissions).to.equal("0400");
      };
      secretFile("alertmanager", "ALERT_WEBHOOK_URL");
      secretFile("grafana", "GRAFANA_ADMIN_PASSWORD");
      secretFile("grafana", "ANALYTICS_API_TOKEN");
      secretFile("grafana", "ALERT_WEBHOOK_URL");
      const am = (get(T.container, "alertmanager").inputs.uploads as Upload[]).find((u) => u.file.endsWith("alertmanager.yml"))!;
      expect(am.content).to.contain("api_url_file: /run/secrets/ALERT_WEBHOOK_URL");
      const envs = get(T.container, "grafana").inputs.envs as string[];
      expect(envs).to.include("GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/GRAFANA_ADMIN_PASSWORD");
      const grafanaFiles = (get(T.container, "grafana").inputs.uploads as Upload[]).map((u) => u.file);
      for (const f of DASHBOARD_FILES) expect(grafanaFiles).to.include(`/etc/grafana/dashboards/${f}`);
    });
  });
}

// A paid plan under mocks: the stack's config with twist:cloudflarePlan overridden (one more evaluation).
describe("infra zone security on a paid plan (staging, twist:cloudflarePlan)", function () {
  this.timeout(180_000);
  const rules = (resources: DetailedResource[], name: string) => only(resources, R.ruleset, name).inputs.rules as Rule[];

  it("adds the host to the rate-limiting rule on pro, keeps the custom rules, and declares no paid notification", async () => {
    const { resources } = await evaluateProgram({ stack: "staging", config: { "twist:cloudflarePlan": "pro" } });
    const host = "vau-staging.twist.example";
    const [perIp] = rules(resources, "vau-ratelimit");
    expect(perIp!.expression).to.equal(`(http.host eq "${host}" and (http.request.uri.path eq "/api/v1/vau" or http.request.uri.path eq "/api/v1/vau/batch"))`);
    expect(perIp!.expression).to.equal(vauRuleExpressions(host, "pro").rateLimit);
    const free = vauRuleExpressions(host, "free");
    expect(rules(resources, "vau-firewall").map((r) => r.expression)).to.deep.equal([free.methods, free.authorization]);
    expect(resources.filter((r) => r.type === R.notification).map((p) => p.inputs.alertType)).to.deep.equal(["tunnel_health_event"]);
  });

  it("declares the edge-errors notification, scoped to the zone, on business", async () => {
    const { resources } = await evaluateProgram({ stack: "staging", config: { "twist:cloudflarePlan": "business" } });
    const policies = resources.filter((r) => r.type === R.notification);
    expect(policies.map((p) => p.inputs.alertType)).to.deep.equal(NOTIFICATIONS.map((n) => n.alertType));
    expect(only(resources, R.notification, "notify-edge-errors").inputs.filters).to.deep.equal({ zones: ["fedcba9876543210fedcba9876543210"] });
    expect(rules(resources, "vau-ratelimit")[0]!.expression).to.contain('http.host eq "vau-staging.twist.example"');
  });

  it("guards exactly the Worker's VAU routes", () => {
    expect(VAU_PATHS).to.deep.equal(["/api/v1/vau", "/api/v1/vau/batch"]);
  });
});
