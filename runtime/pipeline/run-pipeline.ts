/**
 * Runs a whole pipeline in one process: provision topics, start the collector, then
 * tables, sinks and aggregations as in-process workers. Behind `sluice run` and
 * `make demo`; the operator runs the same workers one per Deployment instead.
 *
 * The collector starts first: it needs only its topics and its producer. What the
 * consumers need (ClickHouse tables, their groups' offsets, a rebalance that waits out a
 * killed process's members) must not keep a restarted `sluice run` from taking events.
 */
import { clickhouseClient } from "../clickhouse/client.js";
import type { Registry } from "prom-client";
import { startCollector } from "../collector/server.js";
import { ensureSinkTable } from "../clickhouse/ensure-sink-table.js";
import { detectServerFeatures } from "../clickhouse/server-version.js";
import { kafkaClient } from "../kafka/client.js";
import { createRegistry } from "../metrics/registry.js";
import { startSink, type SinkHandle } from "../sink/index.js";
import { startAggregation, type AggregationHandle } from "../aggregation-worker/index.js";
import type { Logger } from "../log.js";
import type { CompiledPipeline } from "./compiled.js";
import { provisionTopics } from "./provision-topics.js";

export interface RunPipelineOptions {
  pipeline: CompiledPipeline;
  kafkaBrokers: string[];
  clickhouseUrl: string;
  host?: string;
  port?: number;
  /** Local runs may have fewer brokers than a topic's declared replication. */
  clampReplication?: boolean;
  registry?: Registry;
  log: Logger;
}

export interface RunningPipeline {
  collectorUrl: string;
  registry: Registry;
  /** Rejects when any worker fails unrecoverably. */
  failed: Promise<never>;
  stop(): Promise<void>;
}

export async function runPipeline(o: RunPipelineOptions): Promise<RunningPipeline> {
  const registry = o.registry ?? createRegistry();
  const admin = kafkaClient(o.kafkaBrokers, "sluice-run-admin").admin();
  await admin.connect();
  try {
    for (const t of await provisionTopics(admin, o.pipeline.streams, { clampToBrokers: o.clampReplication ?? true })) {
      o.log.info("topic ensured", { topic: t.topic, action: t.plan.action, ...(t.clampedReplication ? { replication: t.clampedReplication } : {}) });
      if (t.clampedReplication) o.log.warn("replication clamped to the brokers available", { topic: t.topic, ...t.clampedReplication });
    }
  } finally {
    await admin.disconnect();
  }
  const collector = await startCollector({
    streams: o.pipeline.streams,
    secrets: o.pipeline.secrets,
    kafkaBrokers: o.kafkaBrokers,
    host: o.host,
    port: o.port ?? 0,
    registry,
  });
  const sinks: SinkHandle[] = [];
  const aggregations: AggregationHandle[] = [];
  try {
    await startConsumers(o, registry, sinks, aggregations);
  } catch (err) {
    // A half-started pipeline must not keep the process alive (or take events) after failing.
    await Promise.allSettled([collector.stop(), ...sinks.map((s) => s.stop()), ...aggregations.map((a) => a.stop())]);
    throw err;
  }
  return {
    collectorUrl: collector.url,
    registry,
    failed: Promise.race([...sinks.map((s) => s.failed), ...aggregations.map((a) => a.failed)]),
    stop: async () => {
      // Collector first: stop accepting before the sinks stop draining.
      await collector.stop();
      await Promise.all([...sinks.map((s) => s.stop()), ...aggregations.map((a) => a.stop())]);
    },
  };
}

/** Tables, then sinks and aggregations; each started handle is pushed as soon as it runs. */
async function startConsumers(o: RunPipelineOptions, registry: Registry, sinks: SinkHandle[], aggregations: AggregationHandle[]): Promise<void> {
  const ch = clickhouseClient({ url: o.clickhouseUrl });
  try {
    const features = await detectServerFeatures(ch);
    for (const sink of o.pipeline.sinks) {
      await ensureSinkTable(ch, sink, features);
      o.log.info("table ensured", { table: `${sink.database}.${sink.table}`, sink: sink.name });
    }
  } finally {
    await ch.close();
  }
  for (const sink of o.pipeline.sinks) {
    sinks.push(await startSink({ sink, kafkaBrokers: o.kafkaBrokers, clickhouseUrl: o.clickhouseUrl, registry, logger: o.log }));
    o.log.info("sink started", { sink: sink.name, topic: sink.stream.topic, table: `${sink.database}.${sink.table}` });
  }
  // Each worker ensures its own tables (aggregate and late) before it consumes.
  for (const aggregation of o.pipeline.aggregations) {
    aggregations.push(await startAggregation({ aggregation, kafkaBrokers: o.kafkaBrokers, clickhouseUrl: o.clickhouseUrl, registry, logger: o.log }));
    o.log.info("aggregation started", { aggregation: aggregation.name, topic: aggregation.stream.topic, table: `${aggregation.output.database}.${aggregation.output.table}` });
  }
}
