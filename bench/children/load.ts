/**
 * The HTTP load generator, in its own process so the collector's CPU time is its own.
 * Two shapes: `burst` sends a fixed number of events as fast as `concurrency` requests
 * allow (capacity); `rate` sends at a fixed rate for a fixed time and records when each
 * request was accepted (latency). Both are bounded in count and time.
 */
import { Agent, request } from "node:http";
import { makeEvent, STREAM, tenantFor } from "../events.js";
import { childArgs, serve } from "./serve.js";

interface Target {
  url: string;
  tenants: Record<string, string>;
  prefix: string;
  perRequest: number;
  eventBytes: number;
}

const { eventBytes } = childArgs<{ eventBytes: string }>();
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One POST; resolves with the status (429/503 are answered, not retried: they count as refused). */
function post(t: Target, requestIndex: number, firstEvent: number): Promise<number> {
  const tenant = tenantFor(requestIndex);
  const events = [];
  const now = Date.now();
  for (let i = firstEvent; i < firstEvent + t.perRequest; i++) events.push(makeEvent(t.prefix, i, tenant, t.eventBytes, now));
  const body = JSON.stringify(events);
  const url = new URL(`${t.url}/v1/streams/${STREAM}/events`);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      agent,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${t.tenants[tenant]}` },
    }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

function countStatus(statuses: Record<string, number>, s: number): void {
  statuses[s] = (statuses[s] ?? 0) + 1;
}

serve({
  burst: async (a: { url: string; tenants: Record<string, string>; prefix: string; events: number; perRequest: number; concurrency: number }) => {
    const t: Target = { ...a, eventBytes: Number(eventBytes) };
    const statuses: Record<string, number> = {};
    const requests = Math.ceil(a.events / a.perRequest);
    let next = 0;
    let accepted = 0;
    const t0 = Date.now();
    await Promise.all(Array.from({ length: a.concurrency }, async () => {
      while (next < requests) {
        const r = next++;
        const status = await post(t, r, r * a.perRequest);
        countStatus(statuses, status);
        if (status === 200) accepted += a.perRequest;
      }
    }));
    return { wallMs: Date.now() - t0, accepted, statuses };
  },
  /** Accepts come back as [firstEventIndex, count, acceptedAtMs] per accepted request. */
  rate: async (a: { url: string; tenants: Record<string, string>; prefix: string; eventsPerSecond: number; durationMs: number; perRequest: number; maxInFlight: number }) => {
    const t: Target = { ...a, eventBytes: Number(eventBytes) };
    const statuses: Record<string, number> = {};
    const accepts: [number, number, number][] = [];
    const requestMs: number[] = [];
    let sent = 0;
    let inFlight = 0;
    let skipped = 0;
    const inFlightDone = new Set<Promise<void>>();
    const t0 = Date.now();
    const due = () => Math.floor(((Date.now() - t0) * a.eventsPerSecond) / 1000 / a.perRequest);
    while (Date.now() - t0 < a.durationMs) {
      for (let d = due(); sent < d; sent++) {
        // Open loop: the schedule does not wait for answers; past maxInFlight it skips (and says so).
        if (inFlight >= a.maxInFlight) {
          skipped++;
          continue;
        }
        const r = sent;
        const start = Date.now();
        inFlight++;
        const p: Promise<void> = post(t, r, r * a.perRequest).then(
          (status) => {
            countStatus(statuses, status);
            const at = Date.now();
            requestMs.push(at - start);
            if (status === 200) accepts.push([r * a.perRequest, a.perRequest, at]);
          },
          () => countStatus(statuses, 0),
        ).finally(() => {
          inFlight--;
          inFlightDone.delete(p);
        });
        inFlightDone.add(p);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all([...inFlightDone]);
    return { wallMs: Date.now() - t0, requests: sent, skipped, statuses, accepts, requestMs };
  },
  stop: async () => ({}),
});
