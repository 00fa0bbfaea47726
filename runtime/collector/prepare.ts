/**
 * Turns candidate events into Kafka records: fills what the collector owns (a missing
 * event id, the authenticated tenant), enforces the per-event size limit and validates
 * with the shared checkEvent, so the collector and the sink apply the same rules. Given
 * the events' source bytes, a record's value is those bytes whenever they parse to the
 * validated event (raw-value.ts says why that is safe), else JSON.stringify of it.
 *
 * Partial acceptance: one bad event does not cost the client its good ones. Invalid
 * events are reported by index and the valid ones are produced. The exception is an
 * event claiming another tenant: that is not a mistake in one event but a key being used
 * for someone else's data, so the whole request is refused. Only a tenant id can claim a
 * tenant: under a key, the tenant field holds a non-empty string (tenant ids are the keys
 * of a Secret), and anything else there ("" or 42) is a malformed event, rejected alone.
 */
import { checkEvent } from "../events/check-event.js";
import type { CompiledStream } from "../pipeline/compiled.js";
import { forbidden } from "./errors.js";
import type { ParsedEvents } from "./parse-events.js";
import { detachFromBody, MAX_GROWTH, rawValue, type Fill } from "./raw-value.js";

export interface PreparedRecord {
  /** Position of the event in the request. */
  index: number;
  tenant?: string;
  /** Value of the partitionBy field as checked (null when the optional field is absent). */
  key: string | null;
  /**
   * The Kafka value: the event's own bytes from the request body when they parse to the
   * validated event (raw-value.ts), else JSON.stringify of it.
   */
  value: Buffer | string;
  /** The value's length in bytes. */
  bytes: number;
}

export interface Rejection {
  index: number;
  reason: string;
}

export interface PreparedBatch {
  records: PreparedRecord[];
  rejected: Rejection[];
}

export interface PrepareContext {
  /** The tenant the API key belongs to; undefined when the stream has no auth. */
  tenant?: string;
  newEventId: () => string;
}

type Stream = Pick<CompiledStream, "name" | "keys" | "schema" | "ingest">;

/** `source`, when given, holds each event's text in the body (parse-events.ts). */
export function prepareEvents(stream: Stream, events: unknown[], ctx: PrepareContext, source?: Pick<ParsedEvents, "body" | "ranges">): PreparedBatch {
  refuseForeignTenants(stream, events, ctx.tenant);
  const batch: PreparedBatch = { records: [], rejected: [] };
  const ranges = source?.ranges.length === events.length ? source.ranges : undefined;
  events.forEach((event, index) => {
    const range = ranges?.[index];
    const result = prepareOne(stream, event, index, ctx, range && source!.body.subarray(range.start, range.end));
    if ("reason" in result) batch.rejected.push(result);
    else batch.records.push(result);
  });
  if (source) detachFromBody(batch.records, source.body);
  return batch;
}

function refuseForeignTenants(stream: Stream, events: unknown[], tenant: string | undefined): void {
  const field = stream.keys.tenant;
  if (tenant === undefined || field === undefined) return;
  events.forEach((event, index) => {
    if (!isObject(event)) return;
    const claimed = event[field];
    if (isTenantId(claimed) && claimed !== tenant) {
      throw forbidden(`event ${index} has ${field}=${JSON.stringify(claimed).slice(0, 64)}, but the API key belongs to tenant "${tenant}"; nothing was accepted`);
    }
  });
}

function prepareOne(stream: Stream, event: unknown, index: number, ctx: PrepareContext, source: Buffer | undefined): PreparedRecord | Rejection {
  if (!isObject(event)) return { index, reason: "event is not a JSON object" };
  // `filled` is a copy only when the collector sets a field. `fills` are the fields set that
  // the source text lacks entirely (undefined): those can be written before the client's
  // members. A null one cannot: the text's own null would come later and win.
  let filled = event;
  const fills: Fill[] = [];
  let rawFits = source !== undefined;
  const idField = stream.keys.eventId;
  const id = event[idField];
  if (id === undefined || id === null) {
    const value = ctx.newEventId();
    filled = { ...event };
    filled[idField] = value;
    if (id === null) rawFits = false;
    else fills.push({ field: idField, value });
  }
  const tenantField = stream.keys.tenant;
  if (tenantField !== undefined && ctx.tenant !== undefined) {
    const claimed = filled[tenantField];
    if (claimed === undefined || claimed === null) {
      if (filled === event) filled = { ...event };
      filled[tenantField] = ctx.tenant;
      if (claimed === null) rawFits = false;
      else fills.push({ field: tenantField, value: ctx.tenant });
    } else if (!isTenantId(claimed)) return { index, reason: `field "${tenantField}" must be a non-empty string (a tenant id), got ${JSON.stringify(claimed).slice(0, 64)}` };
  }
  const max = stream.ingest.maxEventBytes;
  let value: Buffer | string | undefined = rawFits ? rawValue(source!, fills) : undefined;
  let bytes = value?.length ?? 0;
  // Past max / MAX_GROWTH the stringified length decides, as it always did (raw-value.ts).
  if (value === undefined || bytes * MAX_GROWTH > max) {
    value = JSON.stringify(filled);
    bytes = Buffer.byteLength(value);
    if (bytes > max) return { index, reason: `event is ${bytes} bytes; the limit is ${max}` };
  }
  const check = checkEvent(stream, filled);
  if (!check.ok) return { index, reason: check.reason };
  const key = check.row[stream.keys.partitionBy];
  const eventTenant = tenantField === undefined ? undefined : check.row[tenantField];
  const tenant = ctx.tenant ?? (eventTenant === null || eventTenant === undefined ? undefined : String(eventTenant));
  return { index, tenant, key: key === null || key === undefined ? null : String(key), value, bytes };
}

function isTenantId(v: unknown): v is string {
  return typeof v === "string" && v !== "";
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
