import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import { DASHBOARD_FILES, analyticsTables, dashboardJson } from "../../ops/grafana/provisioning";
import { RULE_FILES, RULES_DIR, SCRAPE_JOBS, prometheusConfig, type ScrapeJob } from "../../ops/prometheus/config";
import { startPlatform, type Platform } from "../../scripts/platform";
import { runSmoke } from "../../scripts/smoke/flow";
import { randomBytes } from "node:crypto";
import { freePort } from "../support/ports";
import { startLocalS3, type LocalS3 } from "../support/s3-server";
import { createTestDatabase, type TestDatabase } from "../support/postgres";
import { TEST_REDIS_URL, deleteRedisPrefix, testRedisPrefix } from "../support/redis";
import { requireTool } from "./tools";

/** Which process exports each metric the rules read; a new metric in a rule needs its line here. */
const EXPORTED_BY: Record<string, ScrapeJob[]> = {
  http_requests_total: ["auth", "influencer"],
  http_request_duration_seconds_bucket: ["auth", "influencer"],
  http_request_duration_seconds_count: ["auth", "influencer"],
  service_dependency_up: ["auth", "influencer", "settlement"],
  reward_credits_total: ["influencer"],
  settlement_queue_jobs: ["settlement"],
  settlement_oldest_pending_payout_age_seconds: ["settlement"],
  twist_backup_last_success_timestamp_seconds: ["backup"],
  twist_backup_last_failure_timestamp_seconds: ["backup"],
  twist_backup_interval_seconds: ["backup"],
};
/** Series Prometheus makes itself. */
const SYNTHETIC = new Set(["up", "ALERTS"]);
const PROMQL_WORDS = new Set(["by", "without", "and", "or", "unless", "on", "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan"]);

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}
const ruleFiles = RULE_FILES.map((f) => load(readFileSync(join(RULES_DIR, f), "utf8")) as RuleFile);
const rules = ruleFiles.flatMap((f) => f.groups.flatMap((g) => g.rules));

/** Metric names in a PromQL expression: identifiers that are not functions, keywords or label names. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = [...bare.matchAll(/(?<![\w:.])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()/g)].map((m) => m[1]!);
  return [...new Set(names.filter((n) => !PROMQL_WORDS.has(n.toLowerCase())))];
}

interface Panel {
  title: string;
  datasource: { type: string; uid: string };
  targets: { expr?: string; rawSql?: string; datasource: { uid: string } }[];
}
const dashboards = DASHBOARD_FILES.map((f) => ({ file: f, json: JSON.parse(dashboardJson(f, analyticsTables("staging"))) as { uid: string; panels: Panel[] } }));

// The real Prometheus binary scrapes the platform started as `npm start` does (same launcher and
// bundles), with the repository's rule files, after the smoke test's critical path made traffic.
describe("ops: the real Prometheus scraping the local platform", function () {
  this.timeout(240_000);
  let db: TestDatabase;
  let platform: Platform;
  let prometheus: ChildProcess | undefined;
  let backup: ChildProcess | undefined;
  let s3: LocalS3 | undefined;
  let promUrl: string;
  let dir: string;
  const prefix = testRedisPrefix("ops-prom");
  const metricsText: Partial<Record<ScrapeJob, string>> = {};

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${promUrl}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`${path}: ${body.error}`);
    return body.data;
  };
  const query = (q: string) => api<{ resultType: string; result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(q)}`);
  const until = async (what: string, ok: () => Promise<boolean>, ms = 60_000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await ok().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  before(async () => {
    const promtool = requireTool("prometheus");
    db = await createTestDatabase("ops_prom");
    const [edge, auth, influencer, settlement, prom] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    // auth and influencer serve /metrics only on their private listeners, as on the VM.
    const metricsPorts = { auth: await freePort(), influencer: await freePort() };
    platform = await startPlatform({
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      redisPrefix: prefix,
      ports: { edge, auth, influencer, settlement },
      metricsPorts,
      merchantDomains: ["shop.example"],
      edgeConsumerBatchTimeoutSeconds: 1,
      env: { LOG_LEVEL: "warn" },
    });
    await runSmoke(platform.urls, { vauSigningKey: platform.keys.VAU_SIGNING_KEYS, merchantSigningKey: platform.keys.MERCHANT_SIGNING_KEYS });

    // The backup job's own bundle, as its container runs it, against s3rver (the TEST DOUBLE at the R2
    // boundary): it takes a backup at start, so a healthy platform has a recent one.
    s3 = await startLocalS3("twist-backups-prom");
    const backupMetrics = await freePort();
    backup = spawn(process.execPath, [join(__dirname, "..", "..", "dist", "influencer", "backup.js")], {
      stdio: "ignore",
      env: {
        PATH: process.env.PATH!,
        LOG_LEVEL: "warn",
        DATABASE_URL: db.url,
        BACKUP_S3_ENDPOINT: s3.endpoint,
        BACKUP_BUCKET: s3.bucket,
        BACKUP_S3_ACCESS_KEY_ID: s3.accessKeyId,
        BACKUP_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        BACKUP_ENCRYPTION_KEYS: `prom-test:${randomBytes(32).toString("base64")}`,
        METRICS_PORT: String(backupMetrics),
      },
    });
    await until("the first backup", async () => /^twist_backup_last_success_timestamp_seconds [1-9]/m.test(await (await fetch(`http://127.0.0.1:${backupMetrics}/metrics`)).text()));

    dir = mkdtempSync(join(tmpdir(), "twist-prometheus-"));
    const targets = {
      auth: [`127.0.0.1:${metricsPorts.auth}`],
      influencer: [`127.0.0.1:${metricsPorts.influencer}`],
      settlement: [`127.0.0.1:${settlement}`],
      backup: [`127.0.0.1:${backupMetrics}`],
    };
    writeFileSync(join(dir, "prometheus.yml"), prometheusConfig({ targets, rulesDir: RULES_DIR, scrapeIntervalSeconds: 1 }));
    promUrl = `http://127.0.0.1:${prom}`;
    prometheus = spawn(promtool, [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${prom}`], {
      stdio: "ignore",
    });
    await until("every target up", async () => {
      const { activeTargets } = await api<{ activeTargets: { health: string }[] }>("/api/v1/targets");
      return activeTargets.length === SCRAPE_JOBS.length && activeTargets.every((t) => t.health === "up");
    });
    // rate() needs two samples in its window, and the recording rules one evaluation after them.
    await new Promise((r) => setTimeout(r, 4000));
    for (const job of SCRAPE_JOBS) metricsText[job] = await (await fetch(`http://${targets[job][0]}/metrics`)).text();
  });

  after(async () => {
    for (const child of [prometheus, backup]) {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
    }
    await s3?.stop();
    await platform?.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("sees every target up: auth, influencer, the settlement worker and the backup job", async () => {
    const { activeTargets } = await api<{ activeTargets: { health: string; labels: { job: string } }[] }>("/api/v1/targets");
    expect(activeTargets.map((t) => [t.labels.job, t.health]).sort()).to.deep.equal(SCRAPE_JOBS.map((j) => [j, "up"]).sort());
    const up = await query("up");
    expect(up.result).to.have.length(SCRAPE_JOBS.length);
  });

  it("finds every metric a rule reads in the real /metrics of the service that exports it", () => {
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    const read = new Set(rules.flatMap((r) => metricNames(r.expr)));
    expect(
      [...read].filter((m) => m.includes(":")).every((m) => recorded.has(m)),
      "every recording rule used is defined",
    ).to.equal(true);
    const raw = [...read].filter((m) => !m.includes(":") && !SYNTHETIC.has(m));
    expect(raw.sort()).to.deep.equal(Object.keys(EXPORTED_BY).sort());
    for (const metric of raw) {
      for (const job of EXPORTED_BY[metric]!) {
        expect(metricsText[job], `${metric} in ${job}'s /metrics`).to.match(new RegExp(`^${metric}[{ ]`, "m"));
      }
    }
  });

  it("loads every rule group and evaluates every rule without error", async () => {
    const { groups } = await api<{ groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] }>("/api/v1/rules");
    expect(groups.map((g) => g.name).sort()).to.deep.equal(ruleFiles.flatMap((f) => f.groups.map((g) => g.name)).sort());
    const all = groups.flatMap((g) => g.rules);
    expect(all).to.have.length(rules.length);
    for (const r of all) expect(r.health, `${r.name}: ${r.lastError ?? ""}`).to.equal("ok");
    // Nothing is firing on a healthy platform, and the backup taken at start leaves no backup alert even pending.
    expect((await query('ALERTS{alertstate="firing"}')).result).to.deep.equal([]);
    expect((await query('ALERTS{alertname=~"Backup.*"}')).result).to.deep.equal([]);
  });

  it("runs every dashboard panel's PromQL: each parses and returns at least one series", async () => {
    let count = 0;
    for (const { file, json } of dashboards) {
      for (const panel of json.panels.filter((p) => p.datasource.uid === "prometheus")) {
        for (const t of panel.targets) {
          const data = await query(t.expr!);
          expect(data.result.length, `${file} "${panel.title}": ${t.expr}`).to.be.greaterThan(0);
          count++;
        }
      }
    }
    expect(count).to.be.greaterThan(15);
  });

  it("loads every dashboard with a unique uid and panels that each name a provisioned data source", () => {
    expect(new Set(dashboards.map((d) => d.json.uid)).size).to.equal(dashboards.length);
    for (const { json } of dashboards) {
      for (const p of json.panels) {
        expect(["prometheus", "analytics-engine"]).to.include(p.datasource.uid);
        for (const t of p.targets) expect(t.datasource.uid).to.equal(p.datasource.uid);
      }
    }
  });
});
