import { describe, expect, it } from "vitest";
import { loadPipeline } from "../pipeline/load.js";
import { parseVersion, serverFeatures } from "./server-version.js";
import { addColumnsSql, createTableSql } from "./table-ddl.js";

const sink = loadPipeline(["examples/clickstream"]).sinks[0]!;
const old = serverFeatures(parseVersion("18.16.1"));
const modern = serverFeatures(parseVersion("25.8.2.29"));

describe("server features", () => {
  it("finds nothing modern on Debian's 18.16", () => {
    expect(old).toMatchObject({ dateTime64: false, tableTtl: false, insertDeduplicationToken: false });
  });
  it("finds DateTime64, TTL and dedup tokens on a current server", () => {
    expect(modern).toMatchObject({ dateTime64: true, tableTtl: true, insertDeduplicationToken: true });
  });
  it("draws the lines at the releases that added each feature", () => {
    expect(serverFeatures(parseVersion("19.6.1"))).toMatchObject({ tableTtl: true, dateTime64: false });
    expect(serverFeatures(parseVersion("20.1.2"))).toMatchObject({ dateTime64: true, insertDeduplicationToken: false });
    expect(serverFeatures(parseVersion("22.3.1"))).toMatchObject({ insertDeduplicationToken: true });
  });
});

describe("createTableSql", () => {
  it("on 18.16: DateTime in UTC, no TTL, no dedup window", () => {
    const sql = createTableSql(sink, old);
    expect(sql).toContain("`event_time` DateTime('UTC')");
    expect(sql).toContain("`_ingest_time` DateTime('UTC')");
    expect(sql).not.toMatch(/DateTime64|TTL|SETTINGS/);
  });
  it("on a current server: DateTime64(3), TTL on event time, a dedup window for tokens", () => {
    const sql = createTableSql(sink, modern);
    expect(sql).toContain("`event_time` DateTime64(3, 'UTC')");
    expect(sql).toContain(`TTL toDateTime(\`event_time\`) + INTERVAL ${90 * 86400} SECOND`);
    expect(sql).toContain("SETTINGS non_replicated_deduplication_window = 1000");
  });
  it("is ReplacingMergeTree ordered by the sink's key, event id last, partitioned as asked", () => {
    const sql = createTableSql(sink, old);
    expect(sql).toContain("ENGINE = ReplacingMergeTree()");
    expect(sql).toContain("ORDER BY (`tenant_id`, `event_time`, `event_id`)");
    expect(sql).toContain("PARTITION BY toYYYYMM(event_time)");
  });
  it("makes optional fields Nullable and adds the metadata columns", () => {
    const sql = createTableSql(sink, old);
    expect(sql).toContain("`referrer` Nullable(String)");
    expect(sql).toContain("`duration_ms` Nullable(Int32)");
    expect(sql).toContain("`url` String");
    for (const c of ["`_kafka_partition` UInt32", "`_kafka_offset` UInt64", "`_schema_version` UInt32"]) expect(sql).toContain(c);
  });
  it("omits TTL when retention is infinite", () => {
    expect(createTableSql({ ...sink, retentionMs: Infinity }, modern)).not.toContain("TTL");
  });
});

describe("addColumnsSql", () => {
  it("adds only the columns the table lacks, never drops", () => {
    const existing = new Set(["event_id", "tenant_id", "user_id", "event_time", "url", "referrer", "_ingest_time", "_kafka_partition", "_kafka_offset", "_schema_version", "legacy"]);
    expect(addColumnsSql(sink, existing, old)).toEqual(["ALTER TABLE `clickstream`.`page_views` ADD COLUMN `duration_ms` Nullable(Int32)"]);
  });
});
