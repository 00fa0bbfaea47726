/**
 * Events made from a stream's schema, for `sluice send --generate`: a load that the
 * collector accepts as it stands, with no file to write first. Every field the schema
 * declares gets a value of its type (optional ones too, so the columns fill); the event id
 * is new for each event (UUIDv7, set here, so retries reuse it), the event time is the
 * moment it is made, the tenant the one the key belongs to, and the partition key one of a
 * hundred values so the events spread over the partitions as real users would.
 */
import type { CompiledStream } from "../runtime/pipeline/compiled.js";
import type { InputEvent } from "./send-input.js";

export interface GenerateOptions {
  tenant?: string;
  now: () => number;
  newId: () => string;
  /** In [0, 1): Math.random, or a seeded one in tests. */
  random: () => number;
}

/** One generated event; `i` numbers it (from 0) for the values derived from it. */
export function generateEvent(stream: CompiledStream, i: number, o: GenerateOptions): Record<string, unknown> {
  const { keys } = stream;
  const pick = (n: number) => Math.floor(o.random() * n);
  const event: Record<string, unknown> = {};
  for (const f of stream.schema.fields) {
    if (f.name === keys.eventId) event[f.name] = f.type === "string" || f.type === "uuid" ? o.newId() : i;
    else if (f.name === keys.eventTime) event[f.name] = f.type === "timestamp" ? new Date(o.now()).toISOString() : o.now();
    else if (f.name === keys.tenant) event[f.name] = o.tenant ?? "tenant-1";
    else if (f.name === keys.partitionBy) event[f.name] = f.type === "string" ? `${f.name}-${pick(100)}` : valueOf(f.type, f.name, pick);
    else event[f.name] = valueOf(f.type, f.name, pick);
  }
  return event;
}

function valueOf(type: CompiledStream["schema"]["fields"][number]["type"], name: string, pick: (n: number) => number): unknown {
  switch (type) {
    case "string":
      return `${name}-${pick(1000)}`;
    case "int32":
    case "int64":
      return pick(1000);
    case "float64":
      return Math.round(pick(1_000_000)) / 100;
    case "boolean":
      return pick(2) === 1;
    case "timestamp":
      return new Date().toISOString();
    case "uuid":
      return crypto.randomUUID();
  }
}

export function generateEvents(stream: CompiledStream, count: number, o: GenerateOptions): InputEvent[] {
  return Array.from({ length: count }, (_, i) => ({ event: generateEvent(stream, i, o), where: `generated event ${i + 1}` }));
}
