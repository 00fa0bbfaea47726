/**
 * A decoded row as a JSONEachRow object for the sink's table: the value formats both the
 * 2018 and the current server parse (checked against 18.16 in the integration tests).
 */
import type { CompiledStream } from "../pipeline/compiled.js";
import type { ServerFeatures } from "../clickhouse/server-version.js";
import type { DecodedRow } from "./decode.js";

export type ChRow = Record<string, string | number | null>;

export function encodeRow(stream: Pick<CompiledStream, "schema">, keyColumns: ReadonlySet<string>, d: DecodedRow, f: Pick<ServerFeatures, "dateTime64">): ChRow {
  const out: ChRow = {};
  for (const field of stream.schema.fields) {
    const v = d.row[field.name];
    if (v === null || v === undefined) {
      // Key columns are not Nullable (see column-types.ts): store the type's default.
      out[field.name] = keyColumns.has(field.name) ? defaultFor(field.type, f) : null;
    } else if (field.type === "timestamp") out[field.name] = timestamp(v as number, f);
    else if (typeof v === "boolean") out[field.name] = v ? 1 : 0;
    else out[field.name] = v;
  }
  out._ingest_time = timestamp(d.ingestTimeMs, f);
  out._kafka_partition = d.record.partition;
  out._kafka_offset = d.record.offset;
  out._schema_version = d.schemaVersion;
  return out;
}

/** DateTime64(3) takes 'YYYY-MM-DD hh:mm:ss.mmm' (UTC column); DateTime takes epoch seconds. */
export function timestamp(ms: number, f: Pick<ServerFeatures, "dateTime64">): string | number {
  if (!f.dateTime64) return Math.floor(ms / 1000);
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

function defaultFor(type: string, f: Pick<ServerFeatures, "dateTime64">): string | number {
  if (type === "string" || type === "uuid") return "";
  if (type === "timestamp") return timestamp(0, f);
  return 0;
}
