/**
 * Every Prometheus series family Sluice exports, registered into one registry: the
 * collector's, the sink's, the aggregation's, the operator's and its autoscaler's, plus the
 * process metrics each of them serves. What the naming audit (test/unit/metric-conventions
 * .test.ts) and docs/metrics.md are made from, so a new metric cannot skip either.
 */
import type { Registry } from "prom-client";
import { createRegistry } from "../../runtime/metrics/registry.js";
import { collectorMetrics } from "../../runtime/collector/metrics.js";
import { sinkMetrics } from "../../runtime/sink/metrics.js";
import { aggregationMetrics } from "../../runtime/aggregation-worker/metrics.js";
import { operatorMetrics } from "../../operator/metrics.js";
import { AutoscaleMetrics } from "../../operator/autoscale/metrics.js";

export interface MetricFamily {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary";
  help: string;
  labels: string[];
  /** Who serves it. */
  component: "collector" | "sink" | "aggregation" | "operator" | "every process";
}

const componentOf = (name: string): MetricFamily["component"] => {
  if (!name.startsWith("sluice_")) return "every process";
  if (name.startsWith("sluice_collector_")) return "collector";
  if (name.startsWith("sluice_sink_")) return "sink";
  if (name.startsWith("sluice_aggregation_")) return "aggregation";
  return "operator";
};

export async function metricCatalog(): Promise<MetricFamily[]> {
  const registry: Registry = createRegistry(true);
  collectorMetrics(registry);
  sinkMetrics(registry);
  aggregationMetrics(registry);
  operatorMetrics(registry);
  new AutoscaleMetrics(registry);
  return (await registry.getMetricsAsJSON()).map((m) => {
    // prom-client keeps label names on the metric object, not in its JSON.
    const labels = [...(((registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] })?.labelNames) ?? [])];
    return { name: m.name, type: String(m.type) as MetricFamily["type"], help: m.help, labels, component: componentOf(m.name) };
  });
}
