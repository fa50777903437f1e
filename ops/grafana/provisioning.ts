// Grafana provisioning files, generated so the account id and the secret file paths are filled in
// per stack. The dashboards themselves are the JSON files in ops/grafana/dashboards.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const DASHBOARDS_DIR = join(__dirname, "dashboards");
export const DASHBOARD_FILES = readdirSync(DASHBOARDS_DIR)
  .filter((f) => f.endsWith(".json"))
  .sort();
export const dashboardJson = (file: string): string => readFileSync(join(DASHBOARDS_DIR, file), "utf8");

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
