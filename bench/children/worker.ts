/**
 * A Sluice worker process, as the operator would run it: the collector and/or a sink of
 * one bench pipeline, in-process, with nothing else. Its CPU time and RSS are what the
 * benchmarks attribute to Sluice.
 */
import { createRegistry } from "../../runtime/metrics/registry.js";
import { startCollector, type CollectorHandle } from "../../runtime/collector/server.js";
import { startSink, type SinkHandle } from "../../runtime/sink/index.js";
import { silentLogger } from "../../runtime/log.js";
import { benchPipeline } from "../pipeline.js";
import { childArgs, serve } from "./serve.js";
import { growHeapWithinPodLimit } from "../../runtime/worker/heap-growth.js";

// As `sluice worker` does: started in a pod's memory environment, the process grows its heap as deployed workers do.
growHeapWithinPodLimit();

const { kafkaBrokers, clickhouseUrl, database } = childArgs<{ kafkaBrokers: string; clickhouseUrl: string; database: string }>();
const brokers = kafkaBrokers.split(",");
const registry = createRegistry();
let collector: CollectorHandle | undefined;
const sinks: SinkHandle[] = [];

serve({
  startCollector: async ({ namespace }: { namespace: string }) => {
    const p = benchPipeline(namespace, database, "unused");
    collector = await startCollector({ streams: [p.stream], secrets: p.secrets, kafkaBrokers: brokers, port: 0, registry });
    return { url: collector.url };
  },
  startSink: async ({ namespace, table, groupId }: { namespace: string; table: string; groupId?: string }) => {
    const p = benchPipeline(namespace, database, table);
    // Another group reads the same backlog again (the scale-out run).
    const sink = await startSink({ sink: groupId ? { ...p.sink, groupId } : p.sink, kafkaBrokers: brokers, clickhouseUrl, registry, logger: silentLogger });
    sink.failed.catch((err: Error) => {
      console.error(`bench worker: sink failed: ${err.message}`);
      process.exit(1);
    });
    sinks.push(sink);
    return {};
  },
  /** The sinks' inserts so far: how many, and rows in all (sluice_sink_batch_rows). */
  sinkBatches: async () => {
    const h = (await registry.getSingleMetric("sluice_sink_batch_rows")?.get())?.values ?? [];
    const pick = (suffix: string) => h.filter((v) => (v as { metricName?: string }).metricName === `sluice_sink_batch_rows_${suffix}`).reduce((n, v) => n + v.value, 0);
    const total = async (name: string) => ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce((n, v) => n + v.value, 0);
    const secs = (await registry.getSingleMetric("sluice_sink_insert_seconds")?.get())?.values ?? [];
    const insertSeconds = secs.filter((v) => (v as { metricName?: string }).metricName === "sluice_sink_insert_seconds_sum").reduce((n, v) => n + v.value, 0);
    const waits = (await registry.getSingleMetric("sluice_sink_ingest_to_fetched_seconds")?.get())?.values ?? [];
    const wait = (suffix: string) => waits.filter((v) => (v as { metricName?: string }).metricName === `sluice_sink_ingest_to_fetched_seconds_${suffix}`).reduce((n, v) => n + v.value, 0);
    const fetchWaitMs = wait("count") > 0 ? (wait("sum") * 1000) / wait("count") : null;
    return { inserts: pick("count"), insertedRows: pick("sum"), insertSeconds, fetchWaitMs, insertRetries: await total("sluice_sink_insert_retries_total"), kafkaRetries: await total("sluice_sink_kafka_retries_total"), pauses: await total("sluice_sink_fetch_pauses_total") };
  },
  stop: async () => {
    await collector?.stop();
    await Promise.all(sinks.map((s) => s.stop()));
    return {};
  },
});
