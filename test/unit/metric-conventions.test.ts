/**
 * The metric-name audit (issue 15): every family Sluice serves follows the Prometheus
 * naming conventions, and docs/metrics.md lists exactly what is served.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../api/repo-root.js";
import { metricCatalog, type MetricFamily } from "../../scripts/metrics/catalog.js";
import { conventionProblems } from "../../scripts/metrics/conventions.js";
import { METRICS_DOC, metricsMarkdown } from "../../scripts/metrics/metrics-doc.js";

const family = (m: Partial<MetricFamily>): MetricFamily => ({ name: "sluice_sink_rows_written_total", type: "counter", help: "Rows.", labels: ["sink"], component: "sink", ...m });

describe("metric names", () => {
  it("every family of the collector, sink, aggregation and operator follows the conventions", async () => {
    const catalog = await metricCatalog();
    expect(catalog.filter((m) => m.name.startsWith("sluice_")).length).toBeGreaterThan(30);
    const problems = catalog.flatMap((m) => conventionProblems(m).map((p) => `${m.name}: ${p}`));
    expect(problems).toEqual([]);
  });

  it("process metrics keep their standard names (no sluice_process_process_ prefix)", async () => {
    const names = (await metricCatalog()).map((m) => m.name);
    expect(names).toContain("process_cpu_seconds_total");
    expect(names).toContain("nodejs_eventloop_lag_seconds");
    expect(names.filter((n) => n.startsWith("sluice_process_"))).toEqual([]);
  });

  it("catches what the conventions forbid", () => {
    expect(conventionProblems(family({}))).toEqual([]);
    expect(conventionProblems(family({ name: "sluice_sink_rows_written" }))).toEqual(["a counter's name ends in _total"]);
    expect(conventionProblems(family({ name: "sluice_sink_held_total", type: "gauge" }))[0]).toMatch(/must not end in _total/);
    expect(conventionProblems(family({ name: "sluice_sink_insert_ms", type: "histogram" })).join()).toMatch(/non-base unit/);
    expect(conventionProblems(family({ name: "sluice_sink_insert_latency", type: "histogram" })).join()).toMatch(/ends in its unit/);
    expect(conventionProblems(family({ name: "sinkRows_total" })).join()).toMatch(/sluice_/);
    expect(conventionProblems(family({ labels: ["sink", "event_id"] })).join()).toMatch(/label "event_id" is not known to be bounded/);
    expect(conventionProblems(family({ help: " " }))).toEqual(["has no help text"]);
  });

  it("docs/metrics.md matches what is served (run `make reference` after changing a metric)", async () => {
    const file = join(repoRoot, METRICS_DOC);
    const onDisk = existsSync(file) ? readFileSync(file, "utf8") : "(missing)";
    expect(onDisk, `${METRICS_DOC} is stale: run make reference`).toBe(await metricsMarkdown());
  });
});
