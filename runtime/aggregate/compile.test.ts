import { describe, expect, it } from "vitest";
import { aggregationSpec } from "../../api/aggregation.js";
import { compileAggregation } from "./compile.js";

const base = {
  source: { stream: "clicks" },
  window: { type: "tumbling", size: "1m" },
  watermark: { maxOutOfOrderness: "10s", idleTimeout: "30s" },
  allowedLateness: "2m",
  earlyFirings: "5s",
  groupBy: ["tenant_id"],
  measures: [{ name: "events", fn: "count" }, { name: "users", fn: "uniqExact", field: "user_id" }],
  output: { clickhouse: { table: "clicks_per_minute" } },
};

describe("compileAggregation", () => {
  it("turns every duration into milliseconds", () => {
    const c = compileAggregation(aggregationSpec.parse(base));
    expect(c).toMatchObject({ window: { type: "tumbling", sizeMs: 60_000, slideMs: 60_000 }, maxOutOfOrdernessMs: 10_000, idleTimeoutMs: 30_000, allowedLatenessMs: 120_000, earlyFiringsMs: 5_000, groupBy: ["tenant_id"] });
    expect(c.measures).toEqual([{ name: "events", fn: "count", field: undefined }, { name: "users", fn: "uniqExact", field: "user_id" }]);
  });

  it("leaves early firings undefined when the spec has none, and applies watermark defaults", () => {
    const { earlyFirings: _, watermark: __, ...rest } = base;
    const c = compileAggregation(aggregationSpec.parse(rest));
    expect(c.earlyFiringsMs).toBeUndefined();
    expect(c).toMatchObject({ maxOutOfOrdernessMs: 10_000, idleTimeoutMs: 30_000 });
  });

  it("compiles sliding and session windows", () => {
    expect(compileAggregation(aggregationSpec.parse({ ...base, window: { type: "sliding", size: "10m", slide: "1m" } })).window).toEqual({ type: "sliding", sizeMs: 600_000, slideMs: 60_000 });
    // Sessions take no early firings (a session is written once, when it closes).
    const { earlyFirings: _, ...noEarly } = base;
    expect(compileAggregation(aggregationSpec.parse({ ...noEarly, window: { type: "session", gap: "30s" } })).window).toEqual({ type: "session", gapMs: 30_000 });
  });

  it("refuses a measure named like a group-by field or a reserved column", () => {
    expect(() => compileAggregation(aggregationSpec.parse({ ...base, measures: [{ name: "tenant_id", fn: "count" }] }))).toThrow(/"tenant_id" is used twice/);
    expect(() => compileAggregation(aggregationSpec.parse({ ...base, measures: [{ name: "version", fn: "count" }] }))).toThrow(/"version" is used twice/);
  });
});
