import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { sinkMetrics } from "../runtime/sink/metrics.js";
import { parsePromText } from "./prom-text.js";

describe("parsePromText", () => {
  it("reads what prom-client serves: counters, labelled histograms with +Inf, and escaped label values", async () => {
    const registry = new Registry();
    const m = sinkMetrics(registry);
    m.rowsWritten.inc({ sink: "shop/page-views-raw" }, 42);
    m.ingestToWrittenSeconds.observe({ sink: "shop/page-views-raw" }, 0.3);
    new Counter({ name: "odd_total", help: "x", labelNames: ["v"], registers: [registry] }).inc({ v: 'a "quoted" back\\slash\nline' }, 2);
    new Histogram({ name: "plain_seconds", help: "x", buckets: [1], registers: [registry] }).observe(5);
    const samples = parsePromText(await registry.metrics());
    expect(samples).toContainEqual({ name: "sluice_sink_rows_written_total", labels: { sink: "shop/page-views-raw" }, value: 42 });
    expect(samples).toContainEqual({ name: "sluice_sink_ingest_to_written_seconds_bucket", labels: { le: "0.5", sink: "shop/page-views-raw" }, value: 1 });
    expect(samples).toContainEqual({ name: "sluice_sink_ingest_to_written_seconds_bucket", labels: { le: "0.25", sink: "shop/page-views-raw" }, value: 0 });
    expect(samples).toContainEqual({ name: "sluice_sink_ingest_to_written_seconds_bucket", labels: { le: "+Inf", sink: "shop/page-views-raw" }, value: 1 });
    expect(samples).toContainEqual({ name: "odd_total", labels: { v: 'a "quoted" back\\slash\nline' }, value: 2 });
    expect(samples).toContainEqual({ name: "plain_seconds_count", labels: {}, value: 1 });
  });

  it("takes special values and timestamps, and skips comments and lines that are not samples", () => {
    const text = ["# HELP x y", "# TYPE x gauge", "x 1.5e3 1700000000000", 'y{a="1",} +Inf', "z NaN", "w -Inf", "{broken} 1", 'v{a=1} 2', "u", ""].join("\n");
    expect(parsePromText(text)).toEqual([
      { name: "x", labels: {}, value: 1500 },
      { name: "y", labels: { a: "1" }, value: Number.POSITIVE_INFINITY },
      { name: "z", labels: {}, value: Number.NaN },
      { name: "w", labels: {}, value: Number.NEGATIVE_INFINITY },
    ]);
  });
});
