// Monitoring: Prometheus, Alertmanager and Grafana as containers on the backend VM. None publishes
// a host port. Prometheus sits on the internal data network only (it scrapes the services there and
// needs no internet); Alertmanager and Grafana also join the edge network, to send alerts and read
// the edge's Analytics Engine dataset, and Grafana is reached only through the tunnel behind
// Cloudflare Access (ZoneSecurity). Grafana also evaluates the one alert whose data lives in
// Analytics Engine (EdgeDeadLetters) and sends it to Alertmanager's webhook. Configuration comes
// from ops/ (rules, dashboards, alerting) and is uploaded as files; secrets are files under
// /run/secrets (Pulumi secrets, like BackendHost's).
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ANALYTICS_PLUGIN, DASHBOARD_FILES, alertingYaml, analyticsTables, dashboardJson, dashboardProviderYaml, datasourcesYaml } from "../../ops/grafana/provisioning";
import { RULE_FILES, RULES_DIR, prometheusConfig, type ScrapeJob } from "../../ops/prometheus/config";
import { physicalName } from "../naming";
import { SECRETS_DIR, secretFiles } from "./backend";

/** Pinned images: bump deliberately. Prometheus stays on 2.x, the line the promtool rule tests use. */
export const MONITORING_IMAGES = {
  prometheus: "prom/prometheus:v2.55.1",
  alertmanager: "prom/alertmanager:v0.27.0",
  grafana: "grafana/grafana:11.3.1",
} as const;

/** In-network ports; nothing is published on the host. */
export const MONITORING_PORTS = { prometheus: 9090, alertmanager: 9093, grafana: 3000 } as const;

/** Runtime users of the images: uploaded files must be readable after privileges drop. */
const USERS = { prometheus: "65534", alertmanager: "65534", grafana: "472" } as const;

export interface MonitoringArgs {
  /** Stack name; every container, volume and Analytics Engine table name ends in it. Required. */
  stack: string;
  /** Docker provider of the VM the containers run on (BackendHost's primary `provider`). Required. */
  provider: docker.Provider;
  /**
   * BackendHost's networks. Required. `data` is internal (Prometheus joins it only); `edge` reaches
   * the internet and the tunnel (Alertmanager sends there, Grafana is reached and queries there).
   */
  networks: { data: docker.Network; edge: docker.Network };
  /** host:port of each scrape job's /metrics on the data network, by job. Required. */
  targets: Record<ScrapeJob, pulumi.Input<string>[]>;
  /** Prometheus starts after these (the scraped services). Default: none. */
  dependsOn?: pulumi.Resource[];
  /** Grafana's public hostname (its root URL; the tunnel and Access in front of it are ZoneSecurity's). Required. */
  grafana: { hostname: string };
  /** Account whose Analytics Engine SQL API Grafana queries. Required. */
  cloudflareAccountId: string;
  /**
   * Each uploaded as a file under /run/secrets: the Slack-compatible webhook that receives every
   * alert (Alertmanager's and Grafana's), Grafana's admin password, and an API token with Account
   * Analytics Read only. Required.
   */
  secrets: { alertWebhookUrl: pulumi.Output<string>; grafanaAdminPassword: pulumi.Output<string>; analyticsApiToken: pulumi.Output<string> };
  /** Days of metrics Prometheus keeps. Default: 15. */
  retentionDays?: number;
}

/** Plain (non-secret) configuration files, world-readable: the processes run unprivileged. */
function configFiles(files: Record<string, pulumi.Input<string>>): docker.types.input.ContainerUpload[] {
  return Object.entries(files).map(([file, content]) => ({ file, content, permissions: "0444" }));
}

export class Monitoring extends pulumi.ComponentResource {
  readonly prometheus: docker.Container;
  readonly alertmanager: docker.Container;
  readonly grafana: docker.Container;
  /** The tunnel ingress target of Grafana (its alias on the edge network). */
  readonly grafanaService = `http://grafana:${MONITORING_PORTS.grafana}`;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("twist:monitoring:Monitoring", name, {}, opts);
    const n = (logical: string) => physicalName(logical, args.stack);
    const onHost = { parent: this, provider: args.provider };
    const labels = (role: string) => [
      { label: "twist.stack", value: args.stack },
      { label: "twist.role", value: role },
    ];
    const image = (key: keyof typeof MONITORING_IMAGES) => new docker.RemoteImage(`image-${key}`, { name: MONITORING_IMAGES[key], keepLocally: true }, onHost);
    const volume = (key: string) => new docker.Volume(`vol-${key}`, { name: n(key) }, { ...onHost, retainOnDelete: true });
    const ready = (port: number, path: string) => ({
      tests: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${port}${path}`],
      interval: "15s",
      timeout: "5s",
      retries: 4,
      startPeriod: "30s",
    });

    this.alertmanager = this.alertmanagerContainer(args, n, onHost, image("alertmanager"), volume("alertmanager"), labels("alertmanager"), ready);
    this.prometheus = this.prometheusContainer(args, n, onHost, image("prometheus"), volume("prometheus"), labels("prometheus"), ready);
    this.grafana = this.grafanaContainer(args, n, onHost, image("grafana"), volume("grafana"), labels("grafana"), ready);
    this.registerOutputs({});
  }

  private prometheusContainer(
    args: MonitoringArgs,
    n: (l: string) => string,
    onHost: pulumi.CustomResourceOptions,
    img: docker.RemoteImage,
    data: docker.Volume,
    labels: docker.types.input.ContainerLabel[],
    ready: (port: number, path: string) => docker.types.input.ContainerHealthcheck,
  ) {
    const rulesDir = "/etc/prometheus/rules";
    const config = pulumi.all(Object.values(args.targets).map((t) => pulumi.all(t))).apply((lists) => {
      const jobs = Object.keys(args.targets) as ScrapeJob[];
      const targets = Object.fromEntries(jobs.map((job, i) => [job, lists[i]!])) as Record<ScrapeJob, string[]>;
      return prometheusConfig({ targets, rulesDir, alertmanager: `alertmanager:${MONITORING_PORTS.alertmanager}`, externalLabels: { stack: args.stack } });
    });
    return new docker.Container(
      "prometheus",
      {
        name: n("prometheus"),
        image: img.imageId,
        command: [
          "--config.file=/etc/prometheus/prometheus.yml",
          "--storage.tsdb.path=/prometheus",
          `--storage.tsdb.retention.time=${args.retentionDays ?? 15}d`,
          `--web.listen-address=:${MONITORING_PORTS.prometheus}`,
        ],
        uploads: configFiles({
          "/etc/prometheus/prometheus.yml": config,
          ...Object.fromEntries(RULE_FILES.map((f) => [`${rulesDir}/${f}`, readFileSync(join(RULES_DIR, f), "utf8")])),
        }),
        volumes: [{ volumeName: data.name, containerPath: "/prometheus" }],
        networksAdvanced: [{ name: args.networks.data.name, aliases: ["prometheus"] }],
        healthcheck: ready(MONITORING_PORTS.prometheus, "/-/ready"),
        restart: "unless-stopped",
        labels,
      },
      { ...onHost, dependsOn: [this.alertmanager, ...(args.dependsOn ?? [])] },
    );
  }

  private alertmanagerContainer(
    args: MonitoringArgs,
    n: (l: string) => string,
    onHost: pulumi.CustomResourceOptions,
    img: docker.RemoteImage,
    data: docker.Volume,
    labels: docker.types.input.ContainerLabel[],
    ready: (port: number, path: string) => docker.types.input.ContainerHealthcheck,
  ) {
    return new docker.Container(
      "alertmanager",
      {
        name: n("alertmanager"),
        image: img.imageId,
        command: ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager", `--web.listen-address=:${MONITORING_PORTS.alertmanager}`],
        uploads: [
          ...configFiles({ "/etc/alertmanager/alertmanager.yml": readFileSync(join(__dirname, "..", "..", "ops", "alertmanager", "alertmanager.yml"), "utf8") }),
          // The receiver's URL (alertmanager.yml: api_url_file).
          ...secretFiles({ ALERT_WEBHOOK_URL: args.secrets.alertWebhookUrl }, [USERS.alertmanager, USERS.alertmanager]),
        ],
        volumes: [{ volumeName: data.name, containerPath: "/alertmanager" }],
        networksAdvanced: [{ name: args.networks.data.name, aliases: ["alertmanager"] }, { name: args.networks.edge.name }],
        healthcheck: ready(MONITORING_PORTS.alertmanager, "/-/ready"),
        restart: "unless-stopped",
        labels,
      },
      onHost,
    );
  }

  private grafanaContainer(
    args: MonitoringArgs,
    n: (l: string) => string,
    onHost: pulumi.CustomResourceOptions,
    img: docker.RemoteImage,
    data: docker.Volume,
    labels: docker.types.input.ContainerLabel[],
    ready: (port: number, path: string) => docker.types.input.ContainerHealthcheck,
  ) {
    const dashboardsDir = "/etc/grafana/dashboards";
    const tables = analyticsTables(args.stack);
    return new docker.Container(
      "grafana",
      {
        name: n("grafana"),
        image: img.imageId,
        envs: [
          `GF_SERVER_ROOT_URL=https://${args.grafana.hostname}/`,
          `GF_SECURITY_ADMIN_PASSWORD__FILE=${SECRETS_DIR}/GRAFANA_ADMIN_PASSWORD`,
          "GF_USERS_ALLOW_SIGN_UP=false",
          "GF_AUTH_ANONYMOUS_ENABLED=false",
          "GF_ANALYTICS_REPORTING_ENABLED=false",
          `GF_INSTALL_PLUGINS=${ANALYTICS_PLUGIN.id} ${ANALYTICS_PLUGIN.version}`,
        ],
        uploads: [
          ...configFiles({
            "/etc/grafana/provisioning/datasources/twist.yml": datasourcesYaml({
              prometheusUrl: `http://prometheus:${MONITORING_PORTS.prometheus}`,
              cloudflareAccountId: args.cloudflareAccountId,
              analyticsTokenFile: `${SECRETS_DIR}/ANALYTICS_API_TOKEN`,
            }),
            "/etc/grafana/provisioning/dashboards/twist.yml": dashboardProviderYaml(dashboardsDir),
            // EdgeDeadLetters: dead letters are counted in Analytics Engine, which Prometheus cannot read.
            "/etc/grafana/provisioning/alerting/twist.yml": alertingYaml({ deadLettersTable: tables.edge_dead_letters!, webhookUrlFile: `${SECRETS_DIR}/ALERT_WEBHOOK_URL` }),
            ...Object.fromEntries(DASHBOARD_FILES.map((f) => [`${dashboardsDir}/${f}`, dashboardJson(f, tables)])),
          }),
          ...secretFiles(
            { GRAFANA_ADMIN_PASSWORD: args.secrets.grafanaAdminPassword, ANALYTICS_API_TOKEN: args.secrets.analyticsApiToken, ALERT_WEBHOOK_URL: args.secrets.alertWebhookUrl },
            [USERS.grafana, "0"],
          ),
        ],
        volumes: [{ volumeName: data.name, containerPath: "/var/lib/grafana" }],
        networksAdvanced: [{ name: args.networks.data.name }, { name: args.networks.edge.name, aliases: ["grafana"] }],
        healthcheck: ready(MONITORING_PORTS.grafana, "/api/health"),
        restart: "unless-stopped",
        labels,
      },
      { ...onHost, dependsOn: [this.prometheus] },
    );
  }
}
