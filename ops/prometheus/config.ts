// The Prometheus configuration, generated from the scrape targets so the VM (container names on
// the internal network) and the local test (127.0.0.1 ports) run the same jobs and rule files.
// JSON is valid YAML, so the result is written as prometheus.yml as it is.
import { readdirSync } from "node:fs";
import { join } from "node:path";

export const RULES_DIR = join(__dirname, "rules");
/** The rule files, by file name (ops/prometheus/rules/*.yml). */
export const RULE_FILES = readdirSync(RULES_DIR)
  .filter((f) => f.endsWith(".yml"))
  .sort();

/** The jobs the alert rules read; each is one process kind (`job` label). */
export const SCRAPE_JOBS = ["auth", "influencer", "settlement", "backup"] as const;
export type ScrapeJob = (typeof SCRAPE_JOBS)[number];

export interface PrometheusConfigOptions {
  /** host:port of each job's /metrics. */
  targets: Record<ScrapeJob, string[]>;
  /** Folder the rule files are read from inside the Prometheus process. */
  rulesDir: string;
  /** host:port of Alertmanager; omitted, alerts are evaluated but sent nowhere. */
  alertmanager?: string;
  scrapeIntervalSeconds?: number;
  externalLabels?: Record<string, string>;
}

export function prometheusConfig(options: PrometheusConfigOptions): string {
  const interval = `${options.scrapeIntervalSeconds ?? 15}s`;
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, external_labels: options.externalLabels ?? {} },
    rule_files: RULE_FILES.map((f) => `${options.rulesDir}/${f}`),
    ...(options.alertmanager ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] } } : {}),
    scrape_configs: SCRAPE_JOBS.map((job) => ({ job_name: job, metrics_path: "/metrics", static_configs: [{ targets: options.targets[job] }] })),
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
