/**
 * DDL for the aggregate table and the late-event table, pure functions of the job and the
 * server's features (DateTime on 18.16, DateTime64(3) where supported), unit-tested
 * without a server.
 *
 * The aggregate table is ReplacingMergeTree(version) keyed by window and group: every row
 * is a window's full value with an input-derived version, so the newest wins and replays
 * rewrite identical rows. 18.16 has no `is_deleted` engine parameter, so retractions are a
 * column readers filter on: `SELECT ... FROM t FINAL WHERE is_deleted = 0`.
 */
import { baseType, timestampType } from "../clickhouse/column-types.js";
import type { ServerFeatures } from "../clickhouse/server-version.js";
import { ident } from "../clickhouse/table-ddl.js";
import type { CompiledField } from "../pipeline/compiled.js";
import type { CompiledAggregationJob } from "./job.js";

type Feat = Pick<ServerFeatures, "dateTime64">;
type Column = [name: string, type: string];

export const tableRef = (t: { database: string; table: string }) => `${ident(t.database)}.${ident(t.table)}`;

function field(job: CompiledAggregationJob, name: string): CompiledField {
  const f = job.stream.schema.fields.find((x) => x.name === name);
  if (!f) throw new Error(`field "${name}" is not in stream ${job.stream.name}`);
  return f;
}

/** Measure column types: counts are exact integers; min/max/avg of nothing are NULL. */
export function measureType(job: CompiledAggregationJob, m: CompiledAggregationJob["engine"]["measures"][number], f: Feat): string {
  switch (m.fn) {
    case "count":
    case "uniqExact":
    case "uniq":
      return "UInt64";
    case "sum": {
      const t = field(job, m.field!).type;
      return t === "int32" || t === "int64" ? "Int64" : "Float64";
    }
    case "avg":
      return "Nullable(Float64)";
    case "min":
    case "max":
      return `Nullable(${baseType(field(job, m.field!).type, f)})`;
  }
}

/** Group columns are in the sorting key, which old servers refuse to make Nullable: NULL is stored as the type's default. */
export function aggregateColumns(job: CompiledAggregationJob, f: Feat): Column[] {
  const ts = timestampType(f);
  return [
    ["window_start", ts],
    ["window_end", ts],
    ...job.engine.groupBy.map((g): Column => [g, baseType(field(job, g).type, f)]),
    ...job.engine.measures.map((m): Column => [m.name, measureType(job, m, f)]),
    ["version", "UInt64"],
    ["is_deleted", "UInt8"],
    ["firing", "String"],
    ["_written_at", ts],
  ];
}

export function createDatabaseSql(database: string): string {
  return `CREATE DATABASE IF NOT EXISTS ${ident(database)}`;
}

export function createAggregateTableSql(job: CompiledAggregationJob, f: Feat): string {
  const cols = aggregateColumns(job, f).map(([n, t]) => `  ${ident(n)} ${t}`);
  const key = ["window_start", "window_end", ...job.engine.groupBy].map(ident);
  return [
    `CREATE TABLE IF NOT EXISTS ${tableRef(job.output)} (`,
    cols.join(",\n"),
    `) ENGINE = ReplacingMergeTree(version)`,
    `PARTITION BY toYYYYMM(window_start)`,
    `ORDER BY (${key.join(", ")})`,
  ].join("\n");
}

/** The late event's fields, why it was late and where it came from. */
export function lateColumns(job: CompiledAggregationJob, f: Feat): Column[] {
  const id = job.stream.keys.eventId;
  const fields = job.stream.schema.fields.map((x): Column => {
    const t = baseType(x.type, f);
    return [x.name, x.required || x.name === id ? t : `Nullable(${t})`];
  });
  return [...fields, ["reason", "String"], ["_kafka_partition", "UInt32"], ["_kafka_offset", "UInt64"], ["_written_at", timestampType(f)]];
}

/** Deduplicated by event id: a late event reported again after a replay collapses into one row. */
export function createLateTableSql(job: CompiledAggregationJob, table: { database: string; table: string }, f: Feat): string {
  const cols = lateColumns(job, f).map(([n, t]) => `  ${ident(n)} ${t}`);
  return [
    `CREATE TABLE IF NOT EXISTS ${tableRef(table)} (`,
    cols.join(",\n"),
    `) ENGINE = ReplacingMergeTree()`,
    `ORDER BY (${ident(job.stream.keys.eventId)})`,
  ].join("\n");
}
