/**
 * Sends events to a collector and remembers exactly which event ids it was told were
 * accepted: the left half of the no-loss/no-duplicates oracle.
 */
import { randomUUID } from "node:crypto";

export interface LoadOptions {
  url: string;
  stream: string;
  /** tenant id -> API key */
  tenants: Record<string, string>;
  events: number;
  perRequest: number;
  concurrency: number;
  /** Fraction of requests sent a second time with the same body, as a retrying client would. */
  retryFraction?: number;
  /** Fraction of events that are schema-invalid (they must be rejected, never stored). */
  invalidFraction?: number;
  makeEvent?: (i: number, tenant: string) => Record<string, unknown>;
  /** Paces the load to about this many events per second (default: as fast as answered). */
  ratePerSecond?: number;
  /** Called with the number of accepted events after each answered request (progress). */
  onAccepted?: (accepted: number) => void;
}

export interface LoadResult {
  accepted: Set<string>;
  rejectedEvents: number;
  requests: number;
  resent: number;
  statuses: Map<number, number>;
}

export function clickEvent(i: number, tenant: string): Record<string, unknown> {
  return {
    event_id: `${randomUUID()}-${i}`,
    tenant_id: tenant,
    user_id: `user-${i % 997}`,
    event_time: new Date(Date.now() - (i % 5000)).toISOString(),
    url: `https://shop.example/p/${i % 131}`,
  };
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { accepted: new Set(), rejectedEvents: 0, requests: 0, resent: 0, statuses: new Map() };
  const tenants = Object.keys(o.tenants);
  const make = o.makeEvent ?? clickEvent;
  let next = 0;
  const t0 = Date.now();
  const worker = async () => {
    while (next < o.events) {
      const start = next;
      const end = (next = Math.min(o.events, next + o.perRequest));
      if (o.ratePerSecond) {
        const due = t0 + (start / o.ratePerSecond) * 1000;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
      const tenant = tenants[(start / o.perRequest) % tenants.length | 0]!;
      const events = [];
      for (let i = start; i < end; i++) {
        const e = make(i, tenant);
        if (o.invalidFraction && i % Math.round(1 / o.invalidFraction) === 0) e.event_time = "not a time";
        events.push(e);
      }
      const body = JSON.stringify(events);
      await send(o, tenant, body, events, result);
      if (o.retryFraction && Math.random() < o.retryFraction) {
        result.resent++;
        await send(o, tenant, body, events, result);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return result;
}

async function send(o: LoadOptions, tenant: string, body: string, events: Record<string, unknown>[], result: LoadResult): Promise<void> {
  for (;;) {
    const res = await fetch(`${o.url}/v1/streams/${o.stream}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${o.tenants[tenant]}` },
      body,
    });
    result.requests++;
    result.statuses.set(res.status, (result.statuses.get(res.status) ?? 0) + 1);
    const reply = (await res.json()) as { accepted?: number; rejected?: { index: number }[] };
    if (res.status === 429 || res.status === 503) {
      // Back-pressure: a well-behaved client waits as told and sends the same body again.
      const wait = Number(res.headers.get("retry-after") ?? "1");
      await new Promise((r) => setTimeout(r, Math.min(wait, 2) * 1000));
      continue;
    }
    if (res.status >= 300 && res.status !== 400) return;
    const rejected = new Set((reply.rejected ?? []).map((r) => r.index));
    // A retried request is rejected again for the same events: count each event once.
    events.forEach((e, i) => rejected.has(i) && rejectedIds(result).add(String(e.event_id)));
    result.rejectedEvents = rejectedIds(result).size;
    if (res.status < 300) events.forEach((e, i) => rejected.has(i) || result.accepted.add(String(e.event_id)));
    o.onAccepted?.(result.accepted.size);
    return;
  }
}

const rejectedById = new WeakMap<LoadResult, Set<string>>();
function rejectedIds(result: LoadResult): Set<string> {
  let ids = rejectedById.get(result);
  if (!ids) rejectedById.set(result, (ids = new Set()));
  return ids;
}
