/**
 * The aggregation benchmarks' input and specs: clickstream page views (the same padded
 * events as the other benchmarks) with `groups` distinct users spread evenly over
 * `eventMinutes` of event time, and the Aggregation specs measured on them.
 */
import { makeEvent, tenantFor } from "./events.js";

export type WindowKind = "tumbling" | "sliding";

export interface AggregationShape {
  prefix: string;
  events: number;
  groups: number;
  eventMinutes: number;
  /** Event time of the first event, epoch ms, on a minute boundary. */
  startMs: number;
}

/** Up to 3 s behind the event's slot: out of order within a partition, well inside maxOutOfOrderness (10 s). */
const JITTER_MS = 3_000;

/**
 * Event i (i >= 0): user i % groups, event time rising evenly over the span. Negative i is
 * a sentinel for partition -1 - i: 3 minutes after the span, so the watermark passes every
 * window's end.
 */
export function aggregationEvent(s: AggregationShape, i: number, bytes: number): Record<string, unknown> {
  const spanMs = s.eventMinutes * 60_000;
  const sentinel = i < 0;
  const e = makeEvent(s.prefix, sentinel ? s.events - 1 - i : i, tenantFor(Math.abs(i)), bytes);
  e.user_id = sentinel ? `sentinel-${-1 - i}` : `user-${i % s.groups}`;
  e.event_time = new Date(sentinel ? s.startMs + spanMs + 180_000 : Math.max(s.startMs, s.startMs + Math.floor((i * spanMs) / s.events) - ((i * 7919) % JITTER_MS))).toISOString();
  return e;
}

/**
 * The spec measured: count + uniqExact + sum per user. No early firings and no allowed
 * lateness, so the rows written depend only on the input, not on how long a drain takes;
 * idleness is set far beyond a drain so a partition fetched late never moves the watermark.
 */
export function aggregationSpecFor(kind: WindowKind, stream: string, database: string, table: string, maxOutOfOrderness = "10s"): unknown {
  return {
    source: { stream },
    window: kind === "tumbling" ? { type: "tumbling", size: "1m" } : { type: "sliding", size: "1m", slide: "10s" },
    watermark: { maxOutOfOrderness, idleTimeout: "10m" },
    allowedLateness: "0s",
    groupBy: ["user_id"],
    measures: [
      { name: "views", fn: "count" },
      { name: "pages", fn: "uniqExact", field: "url" },
      { name: "time_on_page_ms", fn: "sum", field: "duration_ms" },
    ],
    lateData: { policy: "Table" },
    output: { clickhouse: { database, table } },
  };
}
