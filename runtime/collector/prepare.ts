/**
 * Turns candidate events into Kafka records: fills what the collector owns (a missing
 * event id, the authenticated tenant), enforces the per-event size limit and validates
 * with the shared checkEvent, so the collector and the sink apply the same rules.
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

export interface PreparedRecord {
  /** Position of the event in the request. */
  index: number;
  tenant?: string;
  /** Value of the partitionBy field as checked (null when the optional field is absent). */
  key: string | null;
  value: string;
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

export function prepareEvents(stream: Stream, events: unknown[], ctx: PrepareContext): PreparedBatch {
  refuseForeignTenants(stream, events, ctx.tenant);
  const batch: PreparedBatch = { records: [], rejected: [] };
  events.forEach((event, index) => {
    const result = prepareOne(stream, event, index, ctx);
    if ("reason" in result) batch.rejected.push(result);
    else batch.records.push(result);
  });
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

function prepareOne(stream: Stream, event: unknown, index: number, ctx: PrepareContext): PreparedRecord | Rejection {
  if (!isObject(event)) return { index, reason: "event is not a JSON object" };
  const filled: Record<string, unknown> = { ...event };
  if (filled[stream.keys.eventId] === undefined || filled[stream.keys.eventId] === null) filled[stream.keys.eventId] = ctx.newEventId();
  const tenantField = stream.keys.tenant;
  if (tenantField !== undefined && ctx.tenant !== undefined) {
    const claimed = filled[tenantField];
    if (claimed === undefined || claimed === null) filled[tenantField] = ctx.tenant;
    else if (!isTenantId(claimed)) return { index, reason: `field "${tenantField}" must be a non-empty string (a tenant id), got ${JSON.stringify(claimed).slice(0, 64)}` };
  }
  const value = JSON.stringify(filled);
  const bytes = Buffer.byteLength(value);
  if (bytes > stream.ingest.maxEventBytes) return { index, reason: `event is ${bytes} bytes; the limit is ${stream.ingest.maxEventBytes}` };
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
