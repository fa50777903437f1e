import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { load } from "js-yaml";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NOTIFICATIONS } from "../../infra/components/zone-security";
import { alertingYaml } from "../../ops/grafana/provisioning";
import { RULE_FILES, RULES_DIR } from "../../ops/prometheus/config";
import { runCpuBound } from "../support/cpu-bound";
import { requireTool } from "./tools";

const OPS = join(__dirname, "..", "..", "ops");
const TESTS_DIR = join(OPS, "prometheus", "tests");
// promtool evaluates every rule test's series: CPU-bound, so bounded by its CPU seconds, not the clock
// (a loaded run passed 30 s of wall time on the unit tests).
const CPU_SECONDS = 120;
const run = (tool: string, args: string[], cwd = OPS) => runCpuBound(tool, args, { cwd, cpuSeconds: CPU_SECONDS });

// The alert rules' unit tests, by the real promtool: each alert fires when and only when it should.
describe("ops: Prometheus rules and Alertmanager config (promtool, amtool)", function () {
  this.timeout(0);
  it("names the install step when promtool is missing", () => {
    expect(() => requireTool("promtool", "/nonexistent")).to.throw(/promtool is not installed: .*apt-get install -y --no-install-recommends prometheus/);
  });

  it("checks every rule file", async () => {
    const result = await run(requireTool("promtool"), ["check", "rules", ...RULE_FILES.map((f) => join(RULES_DIR, f))]);
    expect(result.status, result.stdout + result.stderr).to.equal(0);
  });

  it("passes every rule unit test, and has one for each rule file", async () => {
    const tests = readdirSync(TESTS_DIR).filter((f) => f.endsWith(".test.yml"));
    expect(tests.map((t) => t.replace(".test.yml", ".yml")).sort()).to.deep.equal(RULE_FILES);
    const result = await run(requireTool("promtool"), ["test", "rules", ...tests], TESTS_DIR);
    expect(result.status, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout.match(/SUCCESS/g)).to.have.length(tests.length);
  });

  it("fails a unit test whose expectation is wrong (the harness really checks)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twist-promtool-"));
    try {
      writeFileSync(
        join(dir, "wrong.test.yml"),
        [
          `rule_files: [${join(RULES_DIR, "services.yml")}]`,
          "tests:",
          "  - interval: 1m",
          "    input_series:",
          '      - series: \'up{job="auth",instance="auth:3001"}\'',
          "        values: '1x10'",
          "    alert_rule_test:",
          "      - eval_time: 10m",
          "        alertname: ServiceDown",
          '        exp_alerts: [{ exp_labels: { job: auth, instance: "auth:3001", severity: page } }]',
          "",
        ].join("\n"),
      );
      const result = await run(requireTool("promtool"), ["test", "rules", "wrong.test.yml"], dir);
      expect(result.status).to.equal(1);
      expect(result.stdout + result.stderr).to.contain("FAILED");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sends every alert to a runbook that exists and names the alert and a query that confirms it", () => {
    const alerts = RULE_FILES.flatMap((f) =>
      (
        load(readFileSync(join(RULES_DIR, f), "utf8")) as { groups: { rules: { alert?: string; labels?: { severity?: string }; annotations?: { runbook?: string } }[] }[] }
      ).groups.flatMap((g) => g.rules.filter((r) => r.alert)),
    );
    expect(alerts.length).to.be.greaterThan(8);
    for (const a of alerts) {
      expect(["page", "ticket"], a.alert).to.include(a.labels?.severity);
      const runbook = join(__dirname, "..", "..", a.annotations?.runbook ?? "missing");
      expect(existsSync(runbook), `${a.alert}: ${a.annotations?.runbook}`).to.equal(true);
      const text = readFileSync(runbook, "utf8");
      expect(text, `${a.alert} named in its runbook`).to.contain(`\`${a.alert}\``);
      expect(text, `${a.alert}'s runbook has a Prometheus query (promq, runbooks/README.md)`).to.match(/promq '/);
    }
  });

  const runbookText = (path: string | undefined, what: string) => {
    const runbook = join(__dirname, "..", "..", path ?? "missing");
    expect(existsSync(runbook), `${what}: ${path}`).to.equal(true);
    return readFileSync(runbook, "utf8");
  };

  it("sends the Grafana alert (EdgeDeadLetters) to a runbook that names it and an Analytics Engine query that confirms it", () => {
    const file = load(alertingYaml({ deadLettersTable: "twist_edge_dead_letters_staging", webhookUrlFile: "/run/secrets/ALERT_WEBHOOK_URL" })) as {
      groups: { rules: { title: string; labels: { severity: string }; annotations: { runbook?: string } }[] }[];
    };
    const rules = file.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.title)).to.deep.equal(["EdgeDeadLetters"]);
    for (const r of rules) {
      expect(["page", "ticket"], r.title).to.include(r.labels.severity);
      const text = runbookText(r.annotations.runbook, r.title);
      expect(text, `${r.title} named in its runbook`).to.contain(`\`${r.title}\``);
      expect(text, `${r.title}'s runbook has an Analytics Engine query (aeq, runbooks/README.md)`).to.match(/aeq "SELECT .* FROM twist_edge_dead_letters_\$S /);
    }
  });

  it("sends every Cloudflare notification policy to a runbook that names its alert type and a command that confirms it", () => {
    expect(NOTIFICATIONS.map((n) => n.alertType)).to.include.members(["tunnel_health_event", "http_alert_edge_error"]);
    const index = runbookText("docs/runbooks/README.md", "runbook index");
    for (const n of NOTIFICATIONS) {
      const text = runbookText(n.runbook, n.alertType);
      expect(text, `${n.alertType} named in ${n.runbook}`).to.contain(`\`${n.alertType}\``);
      expect(text, `${n.runbook} names the policy twist-${n.logical}-$S`).to.contain(`twist-${n.logical}-$S`);
      // The confirming command sits next to the name: a fenced shell block after it.
      const after = text.slice(text.indexOf(`\`${n.alertType}\``));
      expect(after, `${n.alertType}: a command to confirm it`).to.match(/```sh\n[^`]*(curl|aeq|wrangler|ssh)[^`]*```/);
      expect(index, `${n.alertType} in the runbook index`).to.contain(`notification \`${n.alertType}\``);
    }
  });

  it("accepts the Alertmanager configuration (amtool check-config)", async () => {
    const result = await run(requireTool("amtool"), ["check-config", join(OPS, "alertmanager", "alertmanager.yml")]);
    expect(result.status, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.contain("1 receivers");
  });
});
