/**
 * The sink's Prometheus metrics, labelled by sink (`namespace/name`). Lag is computed at
 * scrape time from the partitions this member owns; the autoscaler reads
 * sluice_sink_lag_seconds against targetLagSeconds.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

// Fine around the seconds the freshness promise is about (a p99 of 2.4 s from buckets at 1
// and 2.5 s read as 2.45 s whatever it was), coarse beyond.
const latencyBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 30, 60, 120, 300];

export interface LagSource {
  lagMessages(): number;
  lagSeconds(): number;
  /** Memory cost of fetched records held, buffered or being written (memory-budget.ts). */
  heldBytes?(): number;
  memoryBudgetBytes?(): number;
}

export interface SinkMetrics {
  rowsWritten: Counter<"sink">;
  batchRows: Histogram<"sink">;
  batchBytes: Histogram<"sink">;
  insertSeconds: Histogram<"sink">;
  insertRetries: Counter<"sink">;
  /** Kafka calls that failed and were retried, by step (kafka-retry.ts). */
  kafkaRetries: Counter<"sink" | "step">;
  /** Kafka steps waiting out an error right now: non-zero while a coordinator moves, say. */
  kafkaRetrying: Gauge<"sink" | "step">;
  eventToWrittenSeconds: Histogram<"sink">;
  ingestToWrittenSeconds: Histogram<"sink">;
  /** Ingest to the sink receiving the record, first record of each fetched batch. */
  ingestToFetchedSeconds: Histogram<"sink">;
  duplicatesDropped: Counter<"sink">;
  deadLettered: Counter<"sink">;
  /** Partitions paused: fetched data over the memory budget, or over a partition's limits while it writes. */
  fetchPauses: Counter<"sink">;
  /** Registers this sink's lag; returns the unregister function. */
  trackLag(sink: string, source: LagSource): () => void;
}

// Several sinks may share one registry (one worker process): create each metric once.
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

const lagByRegistry = new WeakMap<Registry, Map<string, LagSource>>();

export function sinkMetrics(registry: Registry): SinkMetrics {
  const reg = [registry];
  const lagSources = lagByRegistry.get(registry) ?? new Map<string, LagSource>();
  lagByRegistry.set(registry, lagSources);
  const counter = (name: string, help: string) => once(registry, name, () => new Counter({ name, help, labelNames: ["sink"] as const, registers: reg }));
  const histogram = (name: string, help: string, buckets: number[]) =>
    once(registry, name, () => new Histogram({ name, help, labelNames: ["sink"] as const, buckets, registers: reg }));
  const lagGauge = (name: string, help: string, read: (s: LagSource) => number) =>
    once(registry, name, () =>
      new Gauge({
        name, help, labelNames: ["sink"] as const, registers: reg,
        collect() {
          this.reset();
          for (const [sink, s] of lagSources) this.set({ sink }, read(s));
        },
      }),
    );
  lagGauge("sluice_sink_lag_messages", "Records in owned partitions not yet committed (high watermark - committed offset).", (s) => s.lagMessages());
  lagGauge("sluice_sink_lag_seconds", "Age of the oldest record in owned partitions not yet committed (0 when caught up).", (s) => s.lagSeconds());
  lagGauge("sluice_sink_held_bytes", "Fetched records held by the worker, buffered or being written: their bytes plus a fixed overhead per record. Fetching pauses at sluice_sink_memory_budget_bytes.", (s) => s.heldBytes?.() ?? 0);
  lagGauge("sluice_sink_memory_budget_bytes", "The worker's budget for held records (a twelfth of its memory limit, 16-256 MiB, unless set).", (s) => s.memoryBudgetBytes?.() ?? 0);
  return {
    rowsWritten: counter("sluice_sink_rows_written_total", "Rows ClickHouse acknowledged (after in-batch dedupe)."),
    batchRows: histogram("sluice_sink_batch_rows", "Rows per ClickHouse insert (one partition's batch, or several partitions' batches combined).", [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]),
    batchBytes: histogram("sluice_sink_batch_bytes", "Kafka record bytes per ClickHouse insert.", [1e3, 1e4, 1e5, 1e6, 1e7, 1e8]),
    insertSeconds: histogram("sluice_sink_insert_seconds", "Latency of one acknowledged ClickHouse insert.", latencyBuckets),
    insertRetries: counter("sluice_sink_insert_retries_total", "ClickHouse inserts that failed and were retried."),
    kafkaRetries: once(registry, "sluice_sink_kafka_retries_total", () =>
      new Counter({ name: "sluice_sink_kafka_retries_total", help: "Kafka calls (offset reads, commits, dead-letter sends) that failed and were retried, by step.", labelNames: ["sink", "step"] as const, registers: reg })),
    kafkaRetrying: once(registry, "sluice_sink_kafka_retrying", () =>
      new Gauge({ name: "sluice_sink_kafka_retrying", help: "Kafka steps retrying an error right now, by step (0 once they succeed).", labelNames: ["sink", "step"] as const, registers: reg })),
    eventToWrittenSeconds: histogram("sluice_sink_event_to_written_seconds", "Event time to written in ClickHouse.", latencyBuckets),
    ingestToFetchedSeconds: histogram("sluice_sink_ingest_to_fetched_seconds", "Ingest (collector accept, else Kafka timestamp) to the sink receiving the record from Kafka, for the first record of each fetched batch: the part of ingest-to-written spent before the sink's batching.", latencyBuckets),
    ingestToWrittenSeconds: histogram("sluice_sink_ingest_to_written_seconds", "Ingest (collector accept, else Kafka timestamp) to written in ClickHouse.", latencyBuckets),
    duplicatesDropped: counter("sluice_sink_duplicates_dropped_total", "Rows dropped by in-batch dedupe on event id."),
    deadLettered: counter("sluice_sink_dead_letters_total", "Poison records sent to the dead-letter topic."),
    fetchPauses: counter("sluice_sink_fetch_pauses_total", "Partitions whose fetching paused: records held over the worker's memory budget, or over a partition's batching limits while it writes. Each pause drops what the client prefetched for the partition, fetched again on resume."),
    trackLag(sink, source) {
      lagSources.set(sink, source);
      return () => lagSources.delete(sink);
    },
  };
}
