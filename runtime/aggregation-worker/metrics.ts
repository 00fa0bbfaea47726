/**
 * The aggregation worker's Prometheus metrics, labelled by aggregation (`namespace/name`).
 * Gauges are read at scrape time from the live engine; the autoscaler can read
 * sluice_aggregation_watermark_lag_seconds against targetLagSeconds.
 */
import { Counter, Gauge, type Registry } from "prom-client";

export interface EngineGauges {
  /** now − watermark, seconds; undefined before the first watermark. */
  watermarkLagSeconds(): number | undefined;
  openWindows(): number;
  stateKeys(): number;
  stateEventIds(): number;
}

export interface AggregationMetrics {
  rowsEmitted: Counter<"aggregation" | "firing">;
  eventsRead: Counter<"aggregation">;
  lateEvents: Counter<"aggregation">;
  missedWindows: Counter<"aggregation">;
  duplicates: Counter<"aggregation">;
  deadLettered: Counter<"aggregation">;
  writeRetries: Counter<"aggregation">;
  kafkaRetries: Counter<"aggregation" | "step">;
  /** Batches held back, past the pending-rows limit, until the write in flight ended. */
  writeWaits: Counter<"aggregation">;
  /** Times fetching paused because a write stayed in flight past that wait. */
  fetchPauses: Counter<"aggregation">;
  kafkaRetrying: Gauge<"aggregation" | "step">;
  /** Registers this aggregation's gauges; returns the unregister function. */
  track(aggregation: string, source: EngineGauges): () => void;
}

// Several aggregations may share one registry (`sluice run`): create each metric once.
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

const sourcesByRegistry = new WeakMap<Registry, Map<string, EngineGauges>>();

export function aggregationMetrics(registry: Registry): AggregationMetrics {
  const reg = [registry];
  const sources = sourcesByRegistry.get(registry) ?? new Map<string, EngineGauges>();
  sourcesByRegistry.set(registry, sources);
  const gauge = (name: string, help: string, read: (s: EngineGauges) => number | undefined) =>
    once(registry, name, () =>
      new Gauge({
        name, help, labelNames: ["aggregation"] as const, registers: reg,
        collect() {
          this.reset();
          for (const [aggregation, s] of sources) {
            const v = read(s);
            if (v !== undefined) this.set({ aggregation }, v);
          }
        },
      }),
    );
  gauge("sluice_aggregation_watermark_lag_seconds", "Processing time minus the watermark: how far results trail real time.", (s) => s.watermarkLagSeconds());
  gauge("sluice_aggregation_open_windows", "(window, group) states held in memory.", (s) => s.openWindows());
  gauge("sluice_aggregation_state_keys", "Distinct group keys with an open window.", (s) => s.stateKeys());
  gauge("sluice_aggregation_state_event_ids", "Event ids held for deduplication across open windows.", (s) => s.stateEventIds());
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    once(registry, name, () => new Counter<L>({ name, help, labelNames, registers: reg }));
  return {
    eventsRead: counter("sluice_aggregation_events_read_total", "Records read from the stream and folded in or dead-lettered: the aggregation's consumption rate. A record re-read after a restart or rebalance (from the last checkpoint) counts again.", ["aggregation"]),
    rowsEmitted: counter("sluice_aggregation_rows_emitted_total", "Rows ClickHouse acknowledged, by firing (early, on_time, late).", ["aggregation", "firing"]),
    lateEvents: counter("sluice_aggregation_late_events_total", "Events too late for every window they fall in, written to the late table or topic and counted in none.", ["aggregation"]),
    missedWindows: counter("sluice_aggregation_missed_windows_total", "(event, window) pairs not counted because the window was final: every window of a wholly late event, and a sliding window's older windows for an event its newer ones took (written to the late output too).", ["aggregation"]),
    duplicates: counter("sluice_aggregation_duplicates_total", "Redelivered events a window had already folded in.", ["aggregation"]),
    deadLettered: counter("sluice_aggregation_dead_letters_total", "Poison records sent to the stream's dead-letter topic.", ["aggregation"]),
    writeRetries: counter("sluice_aggregation_write_retries_total", "ClickHouse or Kafka writes that failed and were retried.", ["aggregation"]),
    kafkaRetries: counter("sluice_aggregation_kafka_retries_total", "Kafka steps (read offsets, commit, transaction) that failed with an error waiting can fix and were retried, by step.", ["aggregation", "step"]),
    writeWaits: counter("sluice_aggregation_write_waits_total", "Batches held back because the rows waiting to be written passed the pending limit while a write was in flight: back-pressure from ClickHouse.", ["aggregation"]),
    fetchPauses: counter("sluice_aggregation_fetch_pauses_total", "Times fetching paused because a write stayed in flight past the 10 s a held batch waits for it (ClickHouse down or very slow).", ["aggregation"]),
    kafkaRetrying: once(registry, "sluice_aggregation_kafka_retrying", () =>
      new Gauge({ name: "sluice_aggregation_kafka_retrying", help: "Kafka steps retrying an error right now, by step (0 once they succeed).", labelNames: ["aggregation", "step"] as const, registers: reg })),
    track(aggregation, source) {
      sources.set(aggregation, source);
      return () => sources.delete(aggregation);
    },
  };
}
