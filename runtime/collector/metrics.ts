/**
 * The collector's Prometheus metrics, prefixed sluice_collector_. Metrics already on the
 * registry are reused, so two collectors (or a restart in tests) can share one registry.
 * Stream labels are only ever configured stream names ("unknown" otherwise), so a
 * scanner probing random URLs cannot blow up the series count.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export type EventOutcome = "accepted" | "invalid" | "forbidden" | "rate_limited" | "unavailable";

export interface CollectorMetrics {
  events: Counter<"stream" | "tenant" | "outcome">;
  requests: Counter<"stream" | "code">;
  requestSeconds: Histogram<"stream">;
  inFlightBytes: Gauge;
  produceSeconds: Histogram<"stream">;
  producerReplacements: Counter;
}

export function collectorMetrics(registry: Registry): CollectorMetrics {
  const reuse = <M>(name: string, make: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? make();
  const registers = [registry];
  return {
    events: reuse("sluice_collector_events_total", () => new Counter({
      name: "sluice_collector_events_total",
      help: "Events received, by stream, tenant and outcome (accepted means acknowledged by Kafka).",
      labelNames: ["stream", "tenant", "outcome"] as const,
      registers,
    })),
    requests: reuse("sluice_collector_requests_total", () => new Counter({
      name: "sluice_collector_requests_total",
      help: "HTTP requests answered, by stream and status code.",
      labelNames: ["stream", "code"] as const,
      registers,
    })),
    requestSeconds: reuse("sluice_collector_request_duration_seconds", () => new Histogram({
      name: "sluice_collector_request_duration_seconds",
      help: "Time from request to response, including the wait for Kafka's acknowledgement.",
      labelNames: ["stream"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })),
    inFlightBytes: reuse("sluice_collector_in_flight_bytes", () => new Gauge({
      name: "sluice_collector_in_flight_bytes",
      help: "Bytes of events sent to Kafka and not yet acknowledged (bounded by maxInFlightBytes).",
      registers,
    })),
    produceSeconds: reuse("sluice_collector_produce_duration_seconds", () => new Histogram({
      name: "sluice_collector_produce_duration_seconds",
      help: "Time for Kafka to acknowledge one request's events (acks=all).",
      labelNames: ["stream"] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })),
    producerReplacements: reuse("sluice_collector_producer_replacements_total", () => new Counter({
      name: "sluice_collector_producer_replacements_total",
      help: "Kafka producers replaced because their idempotence state broke for good (a new producer id each time).",
      registers,
    })),
  };
}
