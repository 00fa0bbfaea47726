/**
 * The Grafana dashboard (charts/sluice/files/grafana-dashboard.json): shipped by the chart
 * as a sidecar ConfigMap when asked, its queries parse (promtool) and name only metrics the
 * code registers; and the operator's pods carry the prometheus.io scrape annotations.
 * test/e2e/prometheus-dashboard.test.ts runs every query against a real Prometheus.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import yaml from "js-yaml";
import { metricCatalog } from "../../scripts/metrics/catalog.js";
import { dashboardQueries, type Dashboard } from "../support/dashboard.js";
import { binDir, repoRoot } from "../../testbed/paths.js";

const chartDir = join(repoRoot, "charts", "sluice");
const helmPath = join(binDir, "helm");
const dashboardFile = join(chartDir, "files", "grafana-dashboard.json");
const dashboard = JSON.parse(readFileSync(dashboardFile, "utf8")) as Dashboard;
const REQUIRED = { kafka: { brokers: ["kafka-0.kafka:9092"] }, clickhouse: { url: "http://clickhouse.data:8123" } };

type Obj = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; data?: Record<string, string>; spec?: any };

const hasHelm = existsSync(helmPath);
const hasPromtool = spawnSync("promtool", ["--version"]).error === undefined;
const skipHelm = !hasHelm && !process.env.CI;
if (skipHelm) console.warn(`chart-dashboard.test.ts: no helm in ${binDir}, the dashboard ConfigMap is NOT rendered (run make setup)`);

const tmp = mkdtempSync(join(tmpdir(), "sluice-chart-dashboard-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function render(values: object): Obj[] {
  const file = join(tmp, `values-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ ...REQUIRED, ...values }));
  const env = { ...process.env, HELM_CONFIG_HOME: join(tmp, "config"), HELM_CACHE_HOME: join(tmp, "cache"), HELM_DATA_HOME: join(tmp, "data") };
  const r = spawnSync(helmPath, ["template", "rel", chartDir, "--namespace", "ops", "-f", file], { encoding: "utf8", env, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`helm template exited ${r.status}:\n${r.stderr}`);
  return (yaml.loadAll(r.stdout) as (Obj | null)[]).filter((o): o is Obj => o !== null);
}
const dashboards = (objs: Obj[]) => objs.filter((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith("-dashboard"));

describe.skipIf(skipHelm)("the chart's Grafana dashboard ConfigMap", () => {
  it("is not rendered by default", () => {
    expect(dashboards(render({}))).toEqual([]);
  });

  it("is rendered when enabled, with the sidecar's label, extra labels and annotations, and the dashboard file as it is", () => {
    const [cm, ...more] = dashboards(render({ metrics: { grafanaDashboard: { enabled: true, labels: { team: "data" }, annotations: { grafana_folder: "Sluice" } } } }));
    expect(more).toEqual([]);
    expect(cm!.metadata).toMatchObject({ name: "rel-sluice-dashboard", namespace: "ops", annotations: { grafana_folder: "Sluice" } });
    expect(cm!.metadata.labels).toMatchObject({ grafana_dashboard: "1", team: "data", "app.kubernetes.io/part-of": "sluice" });
    expect(Object.keys(cm!.data!)).toEqual(["sluice.json"]);
    expect(JSON.parse(cm!.data!["sluice.json"]!)).toEqual(dashboard);
  });
});

describe.skipIf(skipHelm)("the operator's pods", () => {
  it("carry the prometheus.io scrape annotations on the metrics port; podAnnotations win", () => {
    const pod = (values: object) => render(values).find((o) => o.kind === "Deployment")!.spec.template.metadata;
    expect(pod({ metricsPort: 9191 }).annotations).toEqual({ "prometheus.io/scrape": "true", "prometheus.io/port": "9191", "prometheus.io/path": "/metrics" });
    expect(pod({ podAnnotations: { "prometheus.io/scrape": "false", team: "data" } }).annotations).toMatchObject({ "prometheus.io/scrape": "false", team: "data" });
  });
});

describe("the dashboard", () => {
  const queries = dashboardQueries(dashboard);

  it("has a datasource and a namespace variable, and every panel queries the chosen datasource", () => {
    const vars = dashboard.templating.list;
    expect(vars.find((v) => v.name === "datasource")).toMatchObject({ type: "datasource", query: "prometheus" });
    expect(vars.find((v) => v.name === "namespace")).toMatchObject({ type: "query", includeAll: true, multi: true });
    for (const p of dashboard.panels) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      for (const t of p.targets) expect(t.datasource, p.title).toEqual({ type: "prometheus", uid: "${datasource}" });
    }
  });

  it("has the panels of issue 15: ingest, rejections, lag, freshness, replicas, watermark, reconcile errors", () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase());
    for (const word of ["ingest", "dead letters", "lag (messages)", "lag (seconds)", "freshness", "replicas", "watermark", "reconcile errors"]) {
      expect(titles.some((t) => t.includes(word)), word).toBe(true);
    }
  });

  it("names only metrics the code registers (scripts/metrics/catalog.ts)", async () => {
    const families = await metricCatalog();
    // `up` is Prometheus' own, one per target.
    const series = new Set(["up", ...families.flatMap((m) => (m.type === "histogram" ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name]))]);
    const named = new Set(queries.flatMap((q) => q.expr.match(/\b(sluice_[a-z0-9_]+|up)\b(?=\s*[{[)])/g) ?? []));
    expect(named.size).toBeGreaterThan(10);
    for (const name of named) expect(series.has(name), name).toBe(true);
    // The namespace variable lists namespaces of series whose names it matches by prefix.
    const namespaceVar = String(dashboard.templating.list.find((v) => v.name === "namespace")?.query);
    const prefix = new RegExp(`^${/__name__=~"([^"]+)"/.exec(namespaceVar)![1]}$`);
    for (const component of ["collector", "sink", "aggregation", "autoscaler"]) {
      expect(families.some((m) => m.name.startsWith(`sluice_${component}_`) && prefix.test(m.name)), component).toBe(true);
    }
  });

  it.skipIf(!hasPromtool)("has queries promtool parses, with the variables substituted", () => {
    const file = join(tmp, "dashboard-queries.yaml");
    const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.substituted({ namespace: "shop", rateInterval: "1m" }) }));
    writeFileSync(file, yaml.dump({ groups: [{ name: "dashboard", rules }] }));
    const r = spawnSync("promtool", ["check", "rules", file], { encoding: "utf8" });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
});
