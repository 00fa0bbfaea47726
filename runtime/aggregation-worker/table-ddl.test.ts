import { describe, expect, it } from "vitest";
import { loadPipeline } from "../pipeline/load.js";
import { parseVersion, serverFeatures } from "../clickhouse/server-version.js";
import { createAggregateTableSql, createLateTableSql } from "./table-ddl.js";
import { encodeAggregateRow, encodeLateRow } from "./encode.js";

const pipeline = loadPipeline(["examples/ad-clicks"]);
const job = pipeline.aggregations[0]!;
const old = serverFeatures(parseVersion("18.16.1"));
const modern = serverFeatures(parseVersion("25.8.2.29"));

describe("the ad-clicks aggregation compiled", () => {
  it("names its group, tables and late table from the manifest", () => {
    expect(job).toMatchObject({
      groupId: "sluice.default.aggregation.clicks-per-campaign-minute",
      output: { database: "ads", table: "clicks_per_campaign_minute" },
      late: { policy: "Table", database: "ads", table: "clicks_per_campaign_minute_late" },
    });
    expect(job.engine.window).toEqual({ type: "tumbling", sizeMs: 60_000, slideMs: 60_000 });
  });
});

describe("createAggregateTableSql", () => {
  it("on 18.16: DateTime windows, ReplacingMergeTree(version) keyed by window and group", () => {
    const sql = createAggregateTableSql(job, old);
    expect(sql).toContain("`window_start` DateTime('UTC')");
    expect(sql).toContain("ENGINE = ReplacingMergeTree(version)");
    expect(sql).toContain("ORDER BY (`window_start`, `window_end`, `advertiser`, `campaign_id`)");
    expect(sql).not.toContain("DateTime64");
  });
  it("types measures by function and field: count/uniq UInt64, int sum Int64, max Nullable", () => {
    const sql = createAggregateTableSql(job, modern);
    expect(sql).toContain("`window_end` DateTime64(3, 'UTC')");
    for (const c of ["`clicks` UInt64", "`spend_micros` Int64", "`max_cost` Nullable(Int64)", "`users` UInt64", "`version` UInt64", "`is_deleted` UInt8", "`firing` String"]) expect(sql).toContain(c);
  });
});

describe("createLateTableSql", () => {
  it("holds the event, the reason and its coordinates, deduplicated by event id", () => {
    const sql = createLateTableSql(job, { database: "ads", table: "late" }, old);
    expect(sql).toContain("`user_id` Nullable(String)");
    expect(sql).toContain("`reason` String");
    expect(sql).toContain("`_kafka_offset` UInt64");
    expect(sql).toContain("ORDER BY (`click_id`)");
  });
});

describe("encoding rows", () => {
  it("writes results with snake_case system columns and timestamps the server parses", () => {
    const row = encodeAggregateRow(job, { windowStart: 60_000, windowEnd: 120_000, advertiser: "acme", campaign_id: "c1", clicks: 2, spend_micros: 5, max_cost: 3, users: 2, version: 5, firing: "on_time" }, old, 1_000_000);
    expect(row).toMatchObject({ window_start: 60, window_end: 120, advertiser: "acme", clicks: 2, version: 5, is_deleted: 0, firing: "on_time", _written_at: 1000 });
  });
  it("writes a late event with its reason and coordinates", () => {
    const e = { partition: 2, offset: 9, eventId: "x", eventTimeMs: 1_700_000_000_000, row: { click_id: "x", advertiser: "a", campaign_id: "c", clicked_at: 1_700_000_000_000, cost_micros: 1, user_id: null } };
    expect(encodeLateRow(job, e, "too late", old, 0)).toMatchObject({ click_id: "x", clicked_at: 1_700_000_000, user_id: null, reason: "too late", _kafka_partition: 2, _kafka_offset: 9 });
  });
});
