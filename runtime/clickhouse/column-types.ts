/**
 * Schema field types to ClickHouse column types. Timestamps are stored in UTC; where the
 * server lacks DateTime64 they lose their milliseconds (DateTime is seconds).
 */
import type { CompiledField, FieldType } from "../pipeline/compiled.js";
import type { ServerFeatures } from "./server-version.js";

export function baseType(type: FieldType, f: Pick<ServerFeatures, "dateTime64">): string {
  switch (type) {
    case "string":
      return "String";
    // UUID would be smaller, but String keeps the exact text the client sent and works
    // the same on every server version; the id column is in the sorting key either way.
    case "uuid":
      return "String";
    case "int32":
      return "Int32";
    case "int64":
      return "Int64";
    case "float64":
      return "Float64";
    case "boolean":
      return "UInt8";
    case "timestamp":
      return timestampType(f);
  }
}

export function timestampType(f: Pick<ServerFeatures, "dateTime64">): string {
  return f.dateTime64 ? "DateTime64(3, 'UTC')" : "DateTime('UTC')";
}

/**
 * Optional fields are Nullable, except in the sorting key: old servers refuse Nullable
 * key columns, so an optional key column stores the type's default (0, '') instead of NULL.
 */
export function columnType(field: CompiledField, keyColumns: ReadonlySet<string>, f: Pick<ServerFeatures, "dateTime64">): string {
  const t = baseType(field.type, f);
  return field.required || keyColumns.has(field.name) ? t : `Nullable(${t})`;
}

/** Columns the sink adds to every row: where it came from, for audits and replays. */
export function metadataColumns(f: Pick<ServerFeatures, "dateTime64">): [string, string][] {
  return [
    ["_ingest_time", timestampType(f)],
    ["_kafka_partition", "UInt32"],
    ["_kafka_offset", "UInt64"],
    ["_schema_version", "UInt32"],
  ];
}
