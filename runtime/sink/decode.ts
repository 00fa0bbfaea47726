/**
 * One Kafka record to a row, or to the reason it is poison. The schema rules are
 * checkEvent's (shared with the collector); this adds only what Kafka contributes:
 * JSON parsing, the collector's headers and the record's coordinates.
 */
import type { CompiledStream } from "../pipeline/compiled.js";
import { checkEvent, type Row } from "../events/check-event.js";

export const HEADER_INGEST_TIME = "sluice-ingest-time";
export const HEADER_SCHEMA_VERSION = "sluice-schema-version";

export type Headers = Record<string, string>;

export interface SourceRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
  /** Kafka record timestamp, epoch ms. */
  timestampMs: number;
}

export interface DecodedRow {
  record: SourceRecord;
  row: Row;
  eventId: string;
  eventTimeMs: number;
  /** When the collector accepted it; the Kafka timestamp for records from other producers. */
  ingestTimeMs: number;
  schemaVersion: number;
}

export interface Poison {
  record: SourceRecord;
  reason: string;
  field?: string;
}

export type Decoded = { ok: true; value: DecodedRow } | { ok: false; poison: Poison };

export function decodeRecord(stream: Pick<CompiledStream, "schema" | "keys">, record: SourceRecord): Decoded {
  if (record.value === null) return { ok: false, poison: { record, reason: "record has no value" } };
  let json: unknown;
  try {
    json = JSON.parse(record.value.toString("utf8"));
  } catch (err) {
    return { ok: false, poison: { record, reason: `value is not valid JSON: ${(err as Error).message}` } };
  }
  const checked = checkEvent(stream, json);
  if (!checked.ok) return { ok: false, poison: { record, reason: checked.reason, field: checked.field } };
  return {
    ok: true,
    value: {
      record,
      row: checked.row,
      eventId: checked.eventId,
      eventTimeMs: checked.eventTimeMs,
      ingestTimeMs: ingestTimeMs(record),
      schemaVersion: headerInt(record.headers[HEADER_SCHEMA_VERSION]) ?? stream.schema.version,
    },
  };
}

/** When the collector accepted the record; the Kafka timestamp for records from other producers. */
export function ingestTimeMs(record: Pick<SourceRecord, "headers" | "timestampMs">): number {
  return headerInt(record.headers[HEADER_INGEST_TIME]) ?? record.timestampMs;
}

function headerInt(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,16}$/.test(v.trim())) return undefined;
  return Number(v.trim());
}
