/**
 * How `sluice tail` prints a record. Text (the default) is the event itself, one JSON
 * object per line, so the output can be piped to jq or posted back; a dead letter is
 * preceded by a `#` line with its error headers. `-o json` prints one object per record
 * with where it was read and everything it carried, for scripts.
 */
import type { ReadRecord } from "../runtime/kafka/port.js";
import { DEAD_LETTER_HEADERS as DLQ } from "../runtime/sink/dead-letter.js";

const TENANT_HEADER = "sluice-tenant";

/** The value as JSON when it is JSON, else its text (a poison record may be neither). */
export function decodeValue(value: Buffer | null): unknown {
  if (value === null) return null;
  const text = value.toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The record's tenant: the collector's header, else the stream's tenant field in the
 * event (a record produced by something other than the collector has no header).
 */
export function tenantOf(r: ReadRecord, tenantField?: string): string | undefined {
  const header = r.message.headers[TENANT_HEADER];
  if (header !== undefined) return header;
  if (!tenantField) return undefined;
  const value = decodeValue(r.message.value);
  const t = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[tenantField] : undefined;
  return typeof t === "string" ? t : undefined;
}

/** One line per event; a dead letter gets a `#` line before it saying what was wrong. */
export function formatText(r: ReadRecord, deadLetter: boolean): string {
  const event = JSON.stringify(decodeValue(r.message.value));
  if (!deadLetter) return `${event}\n`;
  const h = r.message.headers;
  const field = h[DLQ.field] ? ` (field ${h[DLQ.field]})` : "";
  const by = h[DLQ.sink] ? `, by ${h[DLQ.sink]}` : "";
  const from = h[DLQ.sourceTopic] ? `, from ${h[DLQ.sourceTopic]} partition ${h[DLQ.sourcePartition] ?? "?"} offset ${h[DLQ.sourceOffset] ?? "?"}` : "";
  return `# dead letter ${r.partition}@${r.message.offset}: ${h[DLQ.error] ?? "(no sluice-error header)"}${field}${by}${from}\n${event}\n`;
}

export interface JsonRecord {
  topic: string;
  partition: number;
  offset: string;
  /** ISO 8601, from the record's Kafka timestamp. */
  timestamp: string;
  key: string | null;
  headers: Record<string, string>;
  value: unknown;
}

export function toJsonRecord(r: ReadRecord): JsonRecord {
  const ms = Number(r.message.timestamp);
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.message.offset,
    timestamp: ms >= 0 ? new Date(ms).toISOString() : "",
    key: r.message.key === null ? null : r.message.key.toString("utf8"),
    headers: r.message.headers,
    value: decodeValue(r.message.value),
  };
}

export function formatJson(r: ReadRecord): string {
  return `${JSON.stringify(toJsonRecord(r))}\n`;
}
