import { describe, expect, it } from "vitest";
import { rate, renderTop, seconds } from "./top-render.js";
import type { TopSnapshot } from "./top-snapshot.js";

const snapshot: TopSnapshot = {
  at: "2026-11-29T17:40:12.345Z",
  windowSeconds: 2.01,
  notes: ["metrics http://127.0.0.1:8080/metrics: fetch failed"],
  streams: [
    {
      name: "page-views",
      topic: "shop.page-views",
      ratePerSecond: 1234.5,
      rateSource: "metrics",
      pipelines: [
        { kind: "Sink", name: "page-views-raw", ratePerSecond: 1200, rateSource: "metrics", lagMessages: 42, lagSeconds: 0.4, freshnessP99Seconds: 1.234, deadLettersPerSecond: 0, replicas: { current: 2, desired: 3 }, watermarkLagSeconds: null },
        { kind: "Aggregation", name: "per-minute", ratePerSecond: null, rateSource: null, lagMessages: null, lagSeconds: null, freshnessP99Seconds: null, deadLettersPerSecond: null, replicas: null, watermarkLagSeconds: 75, error: "topic gone" },
      ],
    },
  ],
};

describe("renderTop", () => {
  it("draws a heading, one line per stream with its pipelines indented under it, and the notes", () => {
    const lines = renderTop(snapshot, { namespace: "shop", intervalMs: 2000, source: "-f examples/clickstream/", live: true });
    expect(lines).toEqual([
      "sluice top  -f examples/clickstream/  namespace shop  every 2s  17:40:12 UTC  rates over 2.0 s  (q quits)",
      "",
      "STREAM / PIPELINE             IN/s  WRITTEN/s  LAG  LAG(s)  FRESH p99  DLQ/s  REPLICAS  WM LAG",
      "page-views (shop.page-views)  1235",
      "  sink page-views-raw                    1200   42   0.40s      1.23s    0.0      2->3",
      "  agg per-minute                            -    -       -          -      -         -     75s",
      "",
      "Aggregation per-minute: topic gone",
      "metrics http://127.0.0.1:8080/metrics: fetch failed",
    ]);
  });

  it("says it is measuring before the second sample, and cuts lines to the terminal's width", () => {
    const lines = renderTop({ ...snapshot, windowSeconds: null, notes: [] }, { namespace: "shop", intervalMs: 500, source: "x", live: false, width: 20 });
    expect(lines[0]).toBe("sluice top  x  names");
    expect(renderTop({ ...snapshot, windowSeconds: null }, { namespace: "n", intervalMs: 500, source: "x", live: false })[0]).toBe("sluice top  x  namespace n  every 500ms  17:40:12 UTC  measuring: rates after the next refresh");
    expect(renderTop(snapshot, { namespace: "n", intervalMs: 500, source: "x", live: false, noMetrics: true })[0]).toBe("sluice top  x  namespace n  every 500ms  17:40:12 UTC  rates over 2.0 s from Kafka offsets (no --metrics)");
  });

  it("formats rates and durations for a glance", () => {
    expect([rate(0), rate(3.25), rate(250.4), rate(12_345)]).toEqual(["0.0", "3.3", "250", "12.3k"]);
    expect([seconds(0.123), seconds(42.4), seconds(185)]).toEqual(["0.12s", "42s", "3m05s"]);
  });
});
