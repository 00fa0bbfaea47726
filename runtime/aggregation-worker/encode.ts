/**
 * Engine outputs as JSONEachRow objects for ClickHouse (the value formats both 18.16 and
 * current servers parse), and late events as messages for a late topic.
 */
import type { OutMessage as Message } from "../kafka/port.js";
import type { AggregationEvent, ResultRow } from "../aggregate/engine.js";
import type { ServerFeatures } from "../clickhouse/server-version.js";
import type { FieldType } from "../pipeline/compiled.js";
import { timestamp } from "../sink/encode-row.js";
import type { CompiledAggregationJob } from "./job.js";

type Feat = Pick<ServerFeatures, "dateTime64">;
export type ChRow = Record<string, string | number | null>;
type Scalar = string | number | boolean | null | undefined;

function fieldType(job: CompiledAggregationJob, name: string): FieldType {
  return job.stream.schema.fields.find((f) => f.name === name)!.type;
}

function encodeValue(type: FieldType, v: Scalar, f: Feat): string | number | null {
  if (v === null || v === undefined) return null;
  if (type === "timestamp" && typeof v === "number") return timestamp(v, f);
  if (typeof v === "boolean") return v ? 1 : 0;
  return v;
}

/** Group columns are not Nullable (they are in the sorting key): NULL becomes the type's default. */
function keyValue(type: FieldType, v: Scalar, f: Feat): string | number {
  const e = encodeValue(type, v, f);
  if (e !== null) return e;
  if (type === "string" || type === "uuid") return "";
  return type === "timestamp" ? timestamp(0, f) : 0;
}

/**
 * Window bounds repeat across a flush's rows (every group of a window, and a sliding
 * aggregation writes size/slide windows per group), and so does the flush time: their
 * formatted values are kept instead of formatting a Date three times per row.
 */
const formatted = new Map<number, string | number>();
const FORMATTED_MAX = 4_096;
let formattedFor: Feat["dateTime64"] | undefined;

function windowTimestamp(ms: number, f: Feat): string | number {
  if (formattedFor !== f.dateTime64) {
    formatted.clear();
    formattedFor = f.dateTime64;
  }
  let v = formatted.get(ms);
  if (v === undefined) {
    if (formatted.size >= FORMATTED_MAX) formatted.clear();
    formatted.set(ms, (v = timestamp(ms, f)));
  }
  return v;
}

export function encodeAggregateRow(job: CompiledAggregationJob, row: ResultRow, f: Feat, nowMs: number): ChRow {
  const out: ChRow = { window_start: windowTimestamp(row.windowStart, f), window_end: windowTimestamp(row.windowEnd, f) };
  for (const g of job.engine.groupBy) out[g] = keyValue(fieldType(job, g), row[g] as Scalar, f);
  for (const m of job.engine.measures) {
    if ((m.fn === "min" || m.fn === "max") && m.field !== undefined) {
      out[m.name] = encodeValue(fieldType(job, m.field), row[m.name] as Scalar, f);
    } else {
      out[m.name] = row[m.name] as string | number | null;
    }
  }
  out.version = row.version;
  // Kept for tables written by versions that retracted session rows (none are written now).
  out.is_deleted = 0;
  out.firing = row.firing;
  out._written_at = windowTimestamp(nowMs, f);
  return out;
}

export function encodeLateRow(job: CompiledAggregationJob, e: AggregationEvent, reason: string, f: Feat, nowMs: number): ChRow {
  const out: ChRow = {};
  const id = job.stream.keys.eventId;
  for (const field of job.stream.schema.fields) {
    const v = e.row[field.name];
    out[field.name] = field.name === id ? keyValue(field.type, v, f) : encodeValue(field.type, v, f);
  }
  out.reason = reason;
  out._kafka_partition = e.partition;
  out._kafka_offset = e.offset;
  out._written_at = timestamp(nowMs, f);
  return out;
}

/** A late event as the stream would accept it again (timestamps as RFC 3339), with why and whence in headers. */
export function lateMessage(job: CompiledAggregationJob, e: AggregationEvent, reason: string): Message {
  const value: Record<string, unknown> = {};
  for (const field of job.stream.schema.fields) {
    const v = e.row[field.name];
    value[field.name] = field.type === "timestamp" && typeof v === "number" ? new Date(v).toISOString() : v;
  }
  const key = e.row[job.stream.keys.partitionBy];
  return {
    key: key === null || key === undefined ? null : String(key),
    value: JSON.stringify(value),
    headers: {
      "sluice-late-reason": reason,
      "sluice-source-topic": job.stream.topic,
      "sluice-source-partition": String(e.partition),
      "sluice-source-offset": String(e.offset),
      "sluice-aggregation": `${job.namespace}/${job.name}`,
    },
  };
}
