// The edge's Analytics Engine queries against the layouts the Worker writes (runtime/edge/src/
// analytics.ts): each dashboard panel and the EdgeDeadLetters alert read, per stack, the stack's
// table and the column that holds what their title claims. Offline: the SQL API itself needs the
// Cloudflare account.
import { expect } from "chai";
import { load } from "js-yaml";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { STACKS } from "../../infra/config";
import { DASHBOARD_FILES, EDGE_DEAD_LETTERS_PER_HOUR, alertingYaml, analyticsTables, dashboardJson, deadLettersSql } from "../../ops/grafana/provisioning";
import { DEAD_LETTER_POINT, REQUEST_POINT, column, type PointLayout } from "../../runtime/edge/src/analytics";

interface Panel {
  title: string;
  datasource: { uid: string };
  targets: { rawSql?: string; query?: string }[];
}

/** Every column a layout writes, plus what Analytics Engine adds to each row. */
const columnsOf = (layout: PointLayout) =>
  new Set(["timestamp", "_sample_interval", "index1", ...layout.blobs.map((_, i) => `blob${i + 1}`), ...layout.doubles.map((_, i) => `double${i + 1}`)]);
const columnsIn = (sql: string) => sql.match(/\b(blob\d+|double\d+|index\d+)\b/g) ?? [];

const R = (f: (typeof REQUEST_POINT.blobs)[number] | (typeof REQUEST_POINT.doubles)[number]) => column(REQUEST_POINT, f);
/** What a panel's title claims and the SQL that reads it from the column holding it. */
const CLAIMS: { title: RegExp; dataset: "edge_requests" | "edge_dead_letters"; reads: string[] }[] = [
  { title: /requests\/s by route/i, dataset: "edge_requests", reads: [`${R("route")} AS route`, "SUM(_sample_interval) / 60"] },
  { title: /5xx ratio by route/i, dataset: "edge_requests", reads: [`${R("route")} AS route`, `SUM(IF(${R("status")} >= 500, _sample_interval, 0)) / SUM(_sample_interval)`] },
  { title: /p95 latency by route/i, dataset: "edge_requests", reads: [`${R("route")} AS route`, `quantileExactWeighted(0.95)(${R("durationMs")}, _sample_interval)`] },
  { title: /^outcomes/i, dataset: "edge_requests", reads: [`${R("outcome")} AS outcome`] },
  { title: /dead-lettered .* by cause/i, dataset: "edge_dead_letters", reads: [`${column(DEAD_LETTER_POINT, "cause")} AS cause`, "SUM(_sample_interval)"] },
];
const LAYOUTS = { edge_requests: REQUEST_POINT, edge_dead_letters: DEAD_LETTER_POINT };

describe("ops: the edge's Analytics Engine queries follow the Worker's data point layouts", () => {
  it("knows the layouts' columns (a moved field fails here first)", () => {
    expect([R("route"), R("method"), R("outcome"), R("latencyBucket"), R("status"), R("durationMs")]).to.deep.equal(["blob1", "blob2", "blob3", "blob4", "double1", "double2"]);
    expect(column(DEAD_LETTER_POINT, "cause")).to.equal("blob1");
    expect(() => column(REQUEST_POINT, "nope" as "route")).to.throw(/not a field/);
  });

  for (const stack of STACKS) {
    it(`points each edge panel at ${stack}'s table and at the column its title claims`, () => {
      const tables = analyticsTables(stack);
      expect(tables).to.deep.equal({ edge_requests: `twist_edge_requests_${stack}`, edge_dead_letters: `twist_edge_dead_letters_${stack}` });
      const panels = DASHBOARD_FILES.flatMap((f) => (JSON.parse(dashboardJson(f, tables)) as { panels: Panel[] }).panels).filter((p) => p.datasource.uid === "analytics-engine");
      expect(panels).to.have.length(CLAIMS.length);
      for (const claim of CLAIMS) {
        const matching = panels.filter((p) => claim.title.test(p.title));
        expect(matching, `one panel titled ${claim.title}`).to.have.length(1);
        const [panel] = matching;
        for (const t of panel!.targets) {
          const sql = t.rawSql!;
          expect(t.query, panel!.title).to.equal(sql);
          expect(sql, panel!.title).to.contain(`FROM ${tables[claim.dataset]} WHERE timestamp > NOW() - INTERVAL`);
          for (const r of claim.reads) expect(sql, panel!.title).to.contain(r);
          const allowed = columnsOf(LAYOUTS[claim.dataset]);
          for (const c of columnsIn(sql)) expect(allowed.has(c), `${panel!.title}: ${c}`).to.equal(true);
        }
      }
    });
  }

  it("has docs/edge.md and docs/monitoring.md query the columns the layouts declare", () => {
    const docs = join(__dirname, "..", "..", "docs");
    const read = (doc: string) => readFileSync(join(docs, doc), "utf8");
    const statements = [
      ...["edge.md", "monitoring.md"].flatMap((doc) =>
        [...read(doc).matchAll(/```sql\n([\s\S]*?)```/g)].flatMap((m) =>
          m[1]!
            .split(/(?=^SELECT)/m)
            .filter((sql) => sql.startsWith("SELECT"))
            .map((sql) => ({ doc, sql })),
        ),
      ),
      // The runbooks' confirming queries (aeq, runbooks/README.md).
      ...readdirSync(join(docs, "runbooks")).flatMap((f) => [...read(join("runbooks", f)).matchAll(/aeq "(SELECT[^"]*)"/g)].map((m) => ({ doc: f, sql: m[1]! }))),
    ];
    expect(statements.length).to.be.at.least(7);
    for (const { doc, sql } of statements) {
      const table = sql.match(/FROM (twist_edge_(requests|dead_letters)_(staging|production|\$S))[\s\n]/);
      expect(table, `${doc}: ${sql}`).to.not.equal(null);
      const layout: PointLayout = table![2] === "requests" ? REQUEST_POINT : DEAD_LETTER_POINT;
      for (const c of columnsIn(sql)) expect(columnsOf(layout).has(c), `${doc}: ${c} in ${sql}`).to.equal(true);
      // A column named after a field is the column holding that field.
      for (const [, col, alias] of sql.matchAll(/\b(blob\d+|double\d+) AS (\w+)/g)) {
        if ((layout.blobs as readonly string[]).includes(alias!)) expect(col, `${doc}: ${alias}`).to.equal(column(layout, alias as never));
      }
      if (/AS error_ratio/.test(sql)) expect(sql, doc).to.contain(`IF(${column(REQUEST_POINT, "status")} >= 500,`);
      if (/AS p95/.test(sql)) expect(sql, doc).to.contain(`quantileExactWeighted(0.95)(${column(REQUEST_POINT, "durationMs")}, _sample_interval)`);
      expect(sql, doc).to.not.match(/quantileWeighted\(0\.95,/);
    }
  });

  it("refuses a dashboard placeholder that names no dataset of bindings.ts", () => {
    expect(() => dashboardJson("edge.json", { edge_requests: "twist_edge_requests_staging" })).to.throw(/@dataset\(edge_dead_letters\) is not an Analytics Engine dataset/);
  });

  it("provisions EdgeDeadLetters as a Grafana alert: parses, reads the cause column of the dead-letter table, sends to the webhook file", () => {
    const table = "twist_edge_dead_letters_production";
    const file = load(alertingYaml({ deadLettersTable: table, webhookUrlFile: "/run/secrets/ALERT_WEBHOOK_URL" })) as {
      apiVersion: number;
      contactPoints: { name: string; receivers: { type: string; settings: Record<string, string> }[] }[];
      policies: { receiver: string }[];
      groups: {
        folder: string;
        rules: {
          title: string;
          condition: string;
          noDataState: string;
          labels: Record<string, string>;
          annotations: Record<string, string>;
          data: {
            refId: string;
            datasourceUid: string;
            model: { rawSql?: string; type?: string; expression?: string; conditions?: { evaluator: { type: string; params: number[] } }[] };
          }[];
        }[];
      }[];
    };
    expect(file.apiVersion).to.equal(1);
    expect(file.policies[0]!.receiver).to.equal(file.contactPoints[0]!.name);
    expect(file.contactPoints[0]!.receivers).to.deep.equal([
      { uid: "twist-webhook", type: "slack", settings: { url: "$__file{/run/secrets/ALERT_WEBHOOK_URL}" }, disableResolveMessage: false },
    ]);
    const [rule] = file.groups[0]!.rules;
    expect(rule).to.deep.include({ title: "EdgeDeadLetters", condition: "C", noDataState: "OK" });
    expect(rule!.labels).to.deep.equal({ severity: "ticket" });
    expect(rule!.annotations.runbook).to.equal("docs/runbooks/queue-backlog-and-dlq-replay.md");
    const [query, threshold] = rule!.data;
    expect(query).to.deep.include({ refId: "A", datasourceUid: "analytics-engine" });
    const sql = query!.model.rawSql!;
    expect(sql).to.equal(deadLettersSql(table));
    expect(sql).to.contain(`FROM ${table} WHERE timestamp > NOW() - INTERVAL '1' HOUR`).and.contain("blob1 AS cause").and.contain("SUM(_sample_interval)");
    for (const c of columnsIn(sql)) expect(columnsOf(DEAD_LETTER_POINT).has(c), c).to.equal(true);
    expect(threshold!.model).to.deep.include({ type: "threshold", expression: "A" });
    expect(threshold!.model.conditions![0]!.evaluator).to.deep.equal({ type: "gt", params: [EDGE_DEAD_LETTERS_PER_HOUR] });
  });
});
