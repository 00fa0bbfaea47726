/**
 * The Sluice alerts (charts/sluice/files/prometheus-rules.yaml) are checked by the real
 * promtool (Debian's prometheus package, installed by scripts/setup/apt.sh): the rules
 * parse, and every alert fires and stays quiet where its promtool tests say. Besides, each
 * alert names only metrics the code really exports, and has a runbook in docs/alerts.md.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import yaml from "js-yaml";
import { repoRoot } from "../../testbed/paths.js";

const rulesFile = join(repoRoot, "charts", "sluice", "files", "prometheus-rules.yaml");
const testsFile = join(repoRoot, "test", "unit", "prometheus-rules.tests.yaml");
const alertsDoc = join(repoRoot, "docs", "alerts.md");
/** Where the metrics are declared; a rule naming anything else would never fire. */
const metricSources = [
  "runtime/collector/metrics.ts",
  "runtime/sink/metrics.ts",
  "runtime/aggregation-worker/metrics.ts",
  "operator/metrics.ts",
  "operator/autoscale/metrics.ts",
];

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: unknown[];
}
const alerts = (yaml.load(readFileSync(rulesFile, "utf8")) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const alertTests = (yaml.load(readFileSync(testsFile, "utf8")) as { tests: { alert_rule_test?: AlertTest[] }[] }).tests.flatMap((t) => t.alert_rule_test ?? []);

const promtool = "promtool";
const hasPromtool = spawnSync(promtool, ["--version"]).error === undefined;
// Setup installs it, so CI always runs these (and fails without it); elsewhere a machine
// without it skips them, loudly.
const skip = !hasPromtool && !process.env.CI;
if (skip) console.warn(`prometheus-rules.test.ts: ${promtool} not found, the alert rules are NOT checked with promtool (run scripts/setup/apt.sh)`);

function run(args: string[], cwd: string) {
  const r = spawnSync(promtool, args, { cwd, encoding: "utf8", timeout: 60_000 });
  if (r.error) throw new Error(`${promtool}: ${r.error.message} (scripts/setup/apt.sh installs it)`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe.skipIf(skip)("the alert rules, under promtool", () => {
  it("are a valid rules file", () => {
    const r = run(["check", "rules", rulesFile], repoRoot);
    expect(r.output, r.output).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(r.status, r.output).toBe(0);
  });

  it("fire and stay quiet as their promtool tests say", () => {
    const r = run(["test", "rules", "prometheus-rules.tests.yaml"], join(repoRoot, "test", "unit"));
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain("SUCCESS");
  });
});

describe("the alert rules", () => {
  it("are the six the operations docs promise", () => {
    expect(alerts.map((a) => a.alert)).toEqual([
      "SluiceFreshnessSLOBreach",
      "SluiceLagGrowing",
      "SluiceDeadLetterSpike",
      "SluiceWatermarkStuck",
      "SluiceOperatorReconcileErrors",
      "SluiceWorkerDown",
    ]);
  });

  it("are each tested firing and not firing", () => {
    for (const { alert } of alerts) {
      const cases = alertTests.filter((t) => t.alertname === alert);
      expect(cases.some((t) => (t.exp_alerts ?? []).length > 0), `${alert} firing`).toBe(true);
      expect(cases.some((t) => (t.exp_alerts ?? []).length === 0), `${alert} not firing`).toBe(true);
    }
  });

  it("use only metrics the code exports", () => {
    const declared = new Set(metricSources.flatMap((f) => [...readFileSync(join(repoRoot, f), "utf8").matchAll(/"(sluice_[a-z_]+)"/g)].map((m) => m[1]!)));
    for (const { alert, expr } of alerts) {
      for (const [name] of expr.matchAll(/\bsluice_[a-z_]+/g)) {
        const base = name.replace(/_(bucket|sum|count)$/, "");
        expect(declared.has(name) || declared.has(base), `${alert}: ${name} is not declared in ${metricSources.join(", ")}`).toBe(true);
      }
    }
  });

  it("each carry a severity, a summary and a runbook pointing at its section of docs/alerts.md", () => {
    const doc = readFileSync(alertsDoc, "utf8");
    const headings = new Set([...doc.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-")));
    for (const { alert, labels, annotations } of alerts) {
      expect(["critical", "warning"], alert).toContain(labels?.severity);
      expect(annotations?.summary, alert).toBeTruthy();
      expect(annotations?.runbook, alert).toMatch(new RegExp(`\\. See docs/alerts\\.md, ${alert}\\.$`));
      expect(annotations?.runbook_url, alert).toBe(`https://github.com/sluice-dev/sluice/blob/main/docs/alerts.md#${alert.toLowerCase()}`);
      expect(headings.has(alert.toLowerCase()), `docs/alerts.md has no "## ${alert}" section`).toBe(true);
    }
  });
});
