/**
 * The chart's optional Prometheus Operator objects, rendered by the real helm (built by
 * `make setup`): the PrometheusRule holds exactly the groups of the plain rules file, and
 * the ServiceMonitor and PodMonitor select what the operator and its workers expose.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import yaml from "js-yaml";
import { workerLabels } from "../../operator/owner.js";
import { binDir, repoRoot } from "../../testbed/paths.js";

const chartDir = join(repoRoot, "charts", "sluice");
const helmPath = join(binDir, "helm");
const rulesSource = yaml.load(readFileSync(join(chartDir, "files", "prometheus-rules.yaml"), "utf8")) as { groups: Group[] };
const REQUIRED = { kafka: { brokers: ["kafka-0.kafka:9092"] }, clickhouse: { url: "http://clickhouse.data:8123" } };

type Rule = { alert: string; expr: string; labels?: Record<string, string> };
type Group = { name: string; rules: Rule[] };
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any };

const hasHelm = existsSync(helmPath);
const hasPromtool = spawnSync("promtool", ["--version"]).error === undefined;
// `make setup` builds helm, so CI always runs these (and fails without it).
const skip = !hasHelm && !process.env.CI;
if (skip) console.warn(`chart-monitoring.test.ts: no helm in ${binDir}, the chart's monitoring templates are NOT rendered (run make setup)`);

const tmp = mkdtempSync(join(tmpdir(), "sluice-chart-monitoring-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function helmTemplate(values: object, namespace = "ops") {
  const file = join(tmp, `values-${Math.random().toString(36).slice(2)}.json`); // JSON is YAML
  writeFileSync(file, JSON.stringify({ ...REQUIRED, ...values }));
  // Helm's own config and cache stay out of $HOME.
  const env = { ...process.env, HELM_CONFIG_HOME: join(tmp, "config"), HELM_CACHE_HOME: join(tmp, "cache"), HELM_DATA_HOME: join(tmp, "data") };
  const r = spawnSync(helmPath, ["template", "rel", chartDir, "--namespace", namespace, "-f", file], { encoding: "utf8", env, timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}
function render(values: object, namespace = "ops"): Obj[] {
  const r = helmTemplate(values, namespace);
  if (r.status !== 0) throw new Error(`helm template exited ${r.status}:\n${r.stderr}`);
  return (yaml.loadAll(r.stdout) as (Obj | null)[]).filter((o): o is Obj => o !== null);
}
const one = (objs: Obj[], kind: string) => {
  const found = objs.filter((o) => o.kind === kind);
  expect(found.map((o) => o.kind), kind).toEqual([kind]);
  return found[0]!;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);

describe.skipIf(skip)("the chart's monitoring objects", () => {
  it("are not rendered by default", () => {
    const kinds = render({}).map((o) => o.kind);
    for (const k of ["PrometheusRule", "ServiceMonitor", "PodMonitor", "Service"]) expect(kinds).not.toContain(k);
  });

  it("render a PrometheusRule with exactly the groups of the plain rules file", () => {
    const rule = one(render({ metrics: { prometheusRule: { enabled: true, labels: { release: "kps" } } } }), "PrometheusRule");
    expect(rule.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(rule.metadata).toMatchObject({ name: "rel-sluice", namespace: "ops", labels: { release: "kps", "app.kubernetes.io/part-of": "sluice" } });
    expect(rule.spec.groups).toEqual(rulesSource.groups);
  });

  it.skipIf(!hasPromtool)("render a PrometheusRule whose groups promtool accepts", () => {
    const rule = one(render({ metrics: { prometheusRule: { enabled: true, additionalRuleLabels: { team: "data" } } } }), "PrometheusRule");
    const file = join(tmp, "rendered-rules.yaml");
    writeFileSync(file, yaml.dump({ groups: rule.spec.groups }));
    const r = spawnSync("promtool", ["check", "rules", file], { encoding: "utf8" });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });

  it("add the configured labels to every alert and select workers with the configured matcher", () => {
    const selector = 'job="kubernetes-pods",app_kubernetes_io_part_of="sluice"';
    const rule = one(render({ metrics: { prometheusRule: { enabled: true, additionalRuleLabels: { team: "data", severity: "page" }, workerUpSelector: selector } } }), "PrometheusRule");
    const rendered = (rule.spec.groups as Group[]).flatMap((g) => g.rules);
    const source = rulesSource.groups.flatMap((g) => g.rules);
    expect(rendered.map((r) => r.alert)).toEqual(source.map((r) => r.alert));
    for (const [i, r] of rendered.entries()) {
      // An alert's own labels win: severity stays what the rules file says.
      expect(r.labels, r.alert).toEqual({ ...source[i]!.labels, team: "data" });
      if (r.alert === "SluiceWorkerDown") expect(r.expr.trim()).toBe(`up{${selector}} == 0`);
      else expect(r.expr, r.alert).toBe(source[i]!.expr);
    }
  });

  it("render a Service and ServiceMonitor on the operator's metrics port", () => {
    const objs = render({ metricsPort: 9191, metrics: { serviceMonitor: { enabled: true, labels: { release: "kps" }, interval: "15s" } } });
    const pod = one(objs, "Deployment").spec.template;
    const service = one(objs, "Service");
    const monitor = one(objs, "ServiceMonitor");
    expect(monitor.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(monitor.metadata.labels).toMatchObject({ release: "kps" });
    expect(matches(service.spec.selector, pod.metadata.labels)).toBe(true);
    const containerPort = pod.spec.containers[0].ports.find((p: { name: string }) => p.name === "metrics");
    expect(service.spec.ports).toEqual([{ name: "metrics", port: 9191, targetPort: "metrics", protocol: "TCP" }]);
    expect(containerPort.containerPort).toBe(9191);
    expect(matches(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: ["ops"] });
    expect(monitor.spec.endpoints).toEqual([{ port: "metrics", path: "/metrics", interval: "15s", honorLabels: true }]);
  });

  it("render a PodMonitor on every worker pod's http port, with job from its name label", () => {
    const monitor = one(render({ metrics: { podMonitor: { enabled: true, labels: { release: "kps" } } } }), "PodMonitor");
    expect(monitor.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(monitor.metadata.labels).toMatchObject({ release: "kps" });
    for (const component of ["collector", "sink", "aggregation"]) {
      const labels = workerLabels(component, "orders");
      expect(matches(monitor.spec.selector.matchLabels, labels), component).toBe(true);
      // SluiceWorkerDown's default matcher expects job=sluice-<component>.
      expect(labels[monitor.spec.jobLabel], component).toBe(`sluice-${component}`);
    }
    expect(monitor.spec.podMetricsEndpoints).toEqual([{ port: "http", path: "/metrics", interval: "30s" }]);
    expect(monitor.spec.namespaceSelector).toEqual({ any: true });
  });

  it("look for worker pods in the watched namespaces only, when the operator watches some", () => {
    const watched = one(render({ watchNamespaces: ["shop", "ads"], metrics: { podMonitor: { enabled: true } } }), "PodMonitor");
    expect(watched.spec.namespaceSelector).toEqual({ matchNames: ["shop", "ads"] });
    const chosen = one(render({ watchNamespaces: ["shop"], metrics: { podMonitor: { enabled: true, namespaces: ["ads"] } } }), "PodMonitor");
    expect(chosen.spec.namespaceSelector).toEqual({ matchNames: ["ads"] });
  });

  it("refuse a misspelt key under metrics instead of silently rendering nothing (values.schema.json)", () => {
    const r = helmTemplate({ metrics: { prometheusRule: { enable: true } } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("/metrics/prometheusRule");
    expect(r.stderr).toContain("'enable' not allowed");
  });
});
