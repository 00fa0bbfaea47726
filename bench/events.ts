/**
 * The events every benchmark sends: clickstream page views of about BENCH_EVENT_BYTES as
 * JSON. The event id encodes the run and the event's index, so the latency poller can
 * map a row in ClickHouse back to its accept time without shipping ids between processes.
 */
import type { OutMessage } from "../runtime/kafka/port.js";

export const STREAM = "page-views";
/** The Secret in examples/clickstream: tenant id -> API key. */
export const TENANTS = ["shop-a", "shop-b"] as const;

export function eventId(prefix: string, i: number): string {
  return `${prefix}-${i}`;
}

/** The index back from an event id, or -1 when the id belongs to another run. */
export function eventIndex(prefix: string, id: string): number {
  if (!id.startsWith(prefix + "-")) return -1;
  const n = Number(id.slice(prefix.length + 1));
  return Number.isInteger(n) ? n : -1;
}

export function tenantFor(requestIndex: number): string {
  return TENANTS[requestIndex % TENANTS.length]!;
}

export function makeEvent(prefix: string, i: number, tenant: string, bytes: number, now = Date.now()): Record<string, unknown> {
  const e: Record<string, unknown> = {
    event_id: eventId(prefix, i),
    tenant_id: tenant,
    user_id: `user-${i % 997}`,
    event_time: new Date(now - (i % 5000)).toISOString(),
    url: `https://shop.example/p/${i % 131}`,
    duration_ms: i % 60_000,
    referrer: "",
  };
  const pad = bytes - JSON.stringify(e).length;
  e.referrer = `https://search.example/?q=${"x".repeat(Math.max(0, pad - 27))}`;
  return e;
}

/** The Kafka record the collector produces for an accepted event (see collector/handle-ingest.ts). */
export function collectorRecord(event: Record<string, unknown>, ingestTimeMs: number): OutMessage {
  return {
    key: String(event.user_id),
    value: JSON.stringify(event),
    headers: { "sluice-ingest-time": String(ingestTimeMs), "sluice-schema-version": "1", "sluice-tenant": String(event.tenant_id) },
  };
}
