// Grafana provisioning files, generated so the account id, the secret file paths and the stack's
// Analytics Engine table names are filled in per stack. The dashboards themselves are the JSON files
// in ops/grafana/dashboards.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { analyticsDatasets } from "../../runtime/edge/bindings";
import { column, DEAD_LETTER_POINT } from "../../runtime/edge/src/analytics";
import { analyticsDatasetName } from "../../infra/naming";

export const DASHBOARDS_DIR = join(__dirname, "dashboards");
export const DASHBOARD_FILES = readdirSync(DASHBOARDS_DIR)
  .filter((f) => f.endsWith(".json"))
  .sort();

/** Each logical Analytics Engine dataset of bindings.ts ("edge_requests") and its table in a stack. */
export function analyticsTables(stack: string): Record<string, string> {
  return Object.fromEntries(analyticsDatasets.map((a) => [a.dataset, analyticsDatasetName(a.dataset, stack)]));
}

/**
 * A dashboard as provisioned for a stack: each `@dataset(<logical dataset>)` in its SQL becomes the stack's
 * table. The table is written into the file, not left to a dashboard variable, so what Grafana loads
 * is the query as it runs (the file provider has no per-stack substitution of its own).
 */
export function dashboardJson(file: string, tables: Record<string, string>): string {
  return readFileSync(join(DASHBOARDS_DIR, file), "utf8").replace(/@dataset\((\w+)\)/g, (_, name: string) => {
    const table = tables[name];
    if (!table) throw new Error(`${file}: @dataset(${name}) is not an Analytics Engine dataset of runtime/edge/bindings.ts`);
    return table;
  });
}

/** The Analytics Engine SQL API speaks a ClickHouse dialect; this plugin reads it (Cloudflare's documented Grafana route). */
export const ANALYTICS_PLUGIN = { id: "vertamedia-clickhouse-datasource", version: "3.3.1" } as const;

export interface DatasourceOptions {
  prometheusUrl: string;
  cloudflareAccountId: string;
  /** File inside the container holding an API token with Account Analytics Read only. */
  analyticsTokenFile: string;
}

/** datasources.yml (JSON is valid YAML). Grafana expands $__file{...} when it loads the file. */
export function datasourcesYaml(o: DatasourceOptions): string {
  return `${JSON.stringify(
    {
      apiVersion: 1,
      datasources: [
        { name: "Prometheus", uid: "prometheus", type: "prometheus", access: "proxy", url: o.prometheusUrl, isDefault: true, editable: false },
        {
          name: "Edge (Analytics Engine)",
          uid: "analytics-engine",
          type: ANALYTICS_PLUGIN.id,
          access: "proxy",
          url: `https://api.cloudflare.com/client/v4/accounts/${o.cloudflareAccountId}/analytics_engine/sql`,
          jsonData: { usePOST: true, httpHeaderName1: "Authorization" },
          secureJsonData: { httpHeaderValue1: `Bearer $__file{${o.analyticsTokenFile}}` },
          editable: false,
        },
      ],
    },
    null,
    2,
  )}\n`;
}

/** dashboards.yml: load every JSON file of `path`, read-only in the UI (the repository is the source). */
export function dashboardProviderYaml(path: string): string {
  return `${JSON.stringify({ apiVersion: 1, providers: [{ name: "twist", type: "file", disableDeletion: true, allowUiUpdates: false, options: { path } }] }, null, 2)}\n`;
}

/** Dead letters per hour above which EdgeDeadLetters fires (DeadLetterGrowth's threshold, every cause). */
export const EDGE_DEAD_LETTERS_PER_HOUR = 10;

/** The Grafana alert rule's query: dead-lettered reward messages of the last hour by cause. */
export function deadLettersSql(table: string): string {
  const cause = column(DEAD_LETTER_POINT, "cause");
  return `SELECT ${cause} AS cause, SUM(_sample_interval) AS dead_letters FROM ${table} WHERE timestamp > NOW() - INTERVAL '1' HOUR GROUP BY cause`;
}

export interface AlertingOptions {
  /** Table of the DEAD_LETTERS dataset in this stack. */
  deadLettersTable: string;
  /** File inside the container holding the Slack-compatible webhook URL (Alertmanager's receiver). */
  webhookUrlFile: string;
}

/**
 * alerting/twist.yml: the alert Prometheus cannot evaluate, because its data is in Analytics Engine
 * (a Worker's counters are per isolate and never scraped). Sent to the same webhook as Alertmanager's
 * receiver, with the same labels and annotations as the Prometheus rules.
 */
export function alertingYaml(o: AlertingOptions): string {
  const receiver = "operators";
  return `${JSON.stringify(
    {
      apiVersion: 1,
      contactPoints: [
        {
          orgId: 1,
          name: receiver,
          receivers: [{ uid: "twist-webhook", type: "slack", settings: { url: `$__file{${o.webhookUrlFile}}` }, disableResolveMessage: false }],
        },
      ],
      policies: [{ orgId: 1, receiver, group_by: ["alertname"], group_wait: "30s", group_interval: "5m", repeat_interval: "12h" }],
      groups: [
        {
          orgId: 1,
          name: "edge",
          folder: "TWIST",
          interval: "5m",
          rules: [
            {
              uid: "twist-edge-dead-letters",
              title: "EdgeDeadLetters",
              condition: "C",
              data: [
                {
                  refId: "A",
                  relativeTimeRange: { from: 3600, to: 0 },
                  datasourceUid: "analytics-engine",
                  model: { refId: "A", rawSql: deadLettersSql(o.deadLettersTable), query: deadLettersSql(o.deadLettersTable), format: "table" },
                },
                {
                  refId: "C",
                  datasourceUid: "__expr__",
                  model: { refId: "C", type: "threshold", expression: "A", conditions: [{ evaluator: { type: "gt", params: [EDGE_DEAD_LETTERS_PER_HOUR] } }] },
                },
              ],
              // No row means no dead letter in the hour (Analytics Engine has no zero rows).
              noDataState: "OK",
              execErrState: "Error",
              for: "0m",
              labels: { severity: "ticket" },
              annotations: {
                summary: `more than ${EDGE_DEAD_LETTERS_PER_HOUR} reward messages dead-lettered by the edge consumer in the last hour (by cause)`,
                runbook: "docs/runbooks/queue-backlog-and-dlq-replay.md",
              },
            },
          ],
        },
      ],
    },
    null,
    2,
  )}\n`;
}
