/**
 * Checks one event against a stream's schema and normalises its values (timestamps to
 * epoch milliseconds). Shared by the collector (reject at the door) and the sink (send
 * poison to the dead-letter topic), so both apply exactly the same rules.
 */
import type { CompiledField, CompiledStream } from "../pipeline/compiled.js";

export type Row = Record<string, string | number | boolean | null>;

export type EventCheck =
  | { ok: true; row: Row; eventId: string; eventTimeMs: number }
  | { ok: false; field?: string; reason: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/i;
const INT64 = /^-?\d{1,19}$/;
// Epoch milliseconds between 2000 and 2200: a number outside is almost surely seconds or garbage.
const MIN_MS = 946_684_800_000;
const MAX_MS = 7_258_118_400_000;

export function checkEvent(stream: Pick<CompiledStream, "schema" | "keys">, input: unknown): EventCheck {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return { ok: false, reason: "event is not a JSON object" };
  const event = input as Record<string, unknown>;
  const row: Row = {};
  for (const field of stream.schema.fields) {
    const value = event[field.name];
    if (value === undefined || value === null) {
      if (field.required) return { ok: false, field: field.name, reason: `missing required field "${field.name}"` };
      row[field.name] = null;
      continue;
    }
    const normalised = normalise(field, value);
    if (normalised === undefined) return { ok: false, field: field.name, reason: `field "${field.name}" must be ${describeType(field.type)}, got ${JSON.stringify(value).slice(0, 64)}` };
    row[field.name] = normalised;
  }
  if (stream.schema.strict) {
    const known = new Set(stream.schema.fields.map((f) => f.name));
    const unknown = Object.keys(event).find((k) => !known.has(k));
    if (unknown !== undefined) return { ok: false, field: unknown, reason: `unknown field "${unknown}" (the schema is strict)` };
  }
  const eventId = row[stream.keys.eventId];
  const eventTimeMs = row[stream.keys.eventTime];
  if (typeof eventId !== "string" || eventId === "") return { ok: false, field: stream.keys.eventId, reason: `missing event id "${stream.keys.eventId}"` };
  if (typeof eventTimeMs !== "number") return { ok: false, field: stream.keys.eventTime, reason: `missing event time "${stream.keys.eventTime}"` };
  return { ok: true, row, eventId, eventTimeMs };
}

function normalise(field: CompiledField, v: unknown): string | number | boolean | undefined {
  switch (field.type) {
    case "string":
      return typeof v === "string" ? v : undefined;
    case "uuid":
      return typeof v === "string" && UUID.test(v) ? v.toLowerCase() : undefined;
    case "boolean":
      return typeof v === "boolean" ? v : undefined;
    case "float64":
      return typeof v === "number" && Number.isFinite(v) ? v : undefined;
    case "int32":
      return Number.isInteger(v) && (v as number) >= -2147483648 && (v as number) <= 2147483647 ? (v as number) : undefined;
    case "int64":
      if (Number.isSafeInteger(v)) return v as number;
      // Beyond 2^53 JSON numbers lose digits; such values must arrive as decimal strings.
      if (typeof v === "string" && INT64.test(v) && BigInt(v) >= -(2n ** 63n) && BigInt(v) < 2n ** 63n) return v;
      return undefined;
    case "timestamp":
      return toEpochMs(v);
  }
}

function toEpochMs(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isInteger(v) && v >= MIN_MS && v <= MAX_MS ? v : undefined;
  if (typeof v !== "string" || !RFC3339.test(v)) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

function describeType(t: CompiledField["type"]): string {
  return {
    string: "a string",
    uuid: "a UUID string",
    boolean: "true or false",
    float64: "a finite number",
    int32: "a 32-bit integer",
    int64: "a 64-bit integer (a decimal string beyond 2^53)",
    timestamp: "an RFC 3339 timestamp or epoch milliseconds",
  }[t];
}
