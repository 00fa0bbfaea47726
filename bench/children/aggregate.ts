/**
 * The aggregation benchmarks' processes (bench/aggregation.ts). The orchestrator starts a
 * fresh process of this script for each measured side, so CPU time and memory belong to
 * that side alone:
 * - `fill`: pre-fills the topic (not measured);
 * - `bareParse`: the baseline, a bare eachBatch loop (`kafkaClient().consumer()`) that JSON-parses each record and nothing else;
 * - `startAggregation`: the real aggregation worker (`startAggregation`), Kafka -> engine -> ClickHouse;
 * - `memEngine` / `memMap`: state memory of the pure engine vs a plain Map with the same keys.
 */
import { runInNewContext } from "node:vm";
import { freemem } from "node:os";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { aggregationSpec } from "../../api/aggregation.js";
import { compileAggregation } from "../../runtime/aggregate/compile.js";
import { AggregationEngine } from "../../runtime/aggregate/engine.js";
import { compileAggregationJob, startAggregation, type AggregationHandle } from "../../runtime/aggregation-worker/index.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import type { KafkaConsumer, KafkaProducer, OutMessage } from "../../runtime/kafka/port.js";
import { jsonLogger, silentLogger } from "../../runtime/log.js";
import { createRegistry } from "../../runtime/metrics/registry.js";
import { aggregationEvent, aggregationSpecFor, type AggregationShape, type WindowKind } from "../aggregation-events.js";
import { collectorRecord } from "../events.js";
import { benchPipeline } from "../pipeline.js";
import { childArgs, serve } from "./serve.js";
import { growHeapWithinPodLimit } from "../../runtime/worker/heap-growth.js";

// As `sluice worker` does: started in a pod's memory environment, the process grows its heap as deployed workers do.
growHeapWithinPodLimit();

const { kafkaBrokers, clickhouseUrl, database, eventBytes } = childArgs<{ kafkaBrokers: string; clickhouseUrl: string; database: string; eventBytes: string }>();
const brokers = kafkaBrokers.split(",");
const kafka = kafkaClient(brokers, "sluice-bench-aggregate");
const registry = createRegistry();
let producer: KafkaProducer | undefined;
let consumer: KafkaConsumer | undefined;
let handle: AggregationHandle | undefined;

/** A full collection before each memory reading (gc exposed at run time: startChild fixes execArgv). */
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
function settledMemory(): { heapUsedBytes: number; rssBytes: number } {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { heapUsedBytes: m.heapUsed, rssBytes: m.rss };
}

async function sumMetric(name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((s, v) => s + Number(v.value), 0);
}

interface MemArgs {
  /** Stages at which to read memory; stops early (and says why) when the next stage would not fit. */
  stages: number[];
  groups: number;
  timeLimitMs: number;
}

/**
 * Opens `stages` (window, group) keys one event each, reading memory at each stage; decides
 * before each further stage whether it fits (heap limit, free memory, time) by extrapolating.
 */
async function memoryStages(a: MemArgs, open: (from: number, to: number) => void, size: () => number): Promise<unknown> {
  const base = settledMemory();
  const t0 = Date.now();
  const readings: { keys: number; heapUsedBytes: number; rssBytes: number; ms: number; stateKeys: number }[] = [];
  let stoppedBecause: string | undefined;
  let done = 0;
  for (const target of a.stages) {
    const last = readings.at(-1);
    if (last) {
      const perKey = Math.max(last.heapUsedBytes - base.heapUsedBytes, last.rssBytes - base.rssBytes) / last.keys;
      const needBytes = perKey * (target - last.keys) * 1.5; // + growth slack of Maps and Sets
      const heapRoom = getHeapStatistics().heap_size_limit - last.heapUsedBytes;
      const projectedMs = (last.ms / last.keys) * target;
      if (needBytes > heapRoom * 0.8) stoppedBecause = `${target} keys would need ~${Math.round(needBytes / 2 ** 20)} MiB more heap; ${Math.round(heapRoom / 2 ** 20)} MiB left under the heap limit`;
      else if (needBytes > freemem() * 0.5) stoppedBecause = `${target} keys would need ~${Math.round(needBytes / 2 ** 20)} MiB; only ${Math.round(freemem() / 2 ** 20)} MiB free`;
      else if (projectedMs > a.timeLimitMs) stoppedBecause = `${target} keys would take ~${Math.round(projectedMs / 1000)} s (limit ${a.timeLimitMs / 1000} s)`;
      if (stoppedBecause) break;
    }
    open(done, target);
    done = target;
    const m = settledMemory();
    readings.push({ keys: target, ...m, ms: Date.now() - t0, stateKeys: size() });
  }
  return { base, readings, stoppedBecause };
}

serve({
  /** Pre-fills the topic: `events` records over `eventMinutes` of event time, then one sentinel per partition. */
  fill: async (a: { topic: string; shape: AggregationShape; partitions: number }) => {
    const p = (producer = kafka.producer());
    await p.connect();
    const perSend = 500;
    const senders = Math.min(6, a.partitions);
    const t0 = Date.now();
    const send = (messages: OutMessage[]) => p.send({ topic: a.topic, messages });
    // User u goes to partition u % partitions (so a group never spans partitions), and each
    // sender owns a fixed set of partitions and sends in event order: every partition holds
    // its events in time order (up to the jitter), as one producer per source would write them.
    await Promise.all(Array.from({ length: senders }, async (_, k) => {
      let messages: OutMessage[] = [];
      for (let i = 0; i < a.shape.events; i++) {
        const partition = (i % a.shape.groups) % a.partitions;
        if (partition % senders !== k) continue;
        messages.push({ ...collectorRecord(aggregationEvent(a.shape, i, Number(eventBytes)), Date.now()), partition });
        if (messages.length === perSend) {
          await send(messages);
          messages = [];
        }
      }
      if (messages.length > 0) await send(messages);
    }));
    // Sentinels: one per partition, minutes after the last event, so the watermark passes
    // every window's end and the worker's committed offsets reach the sentinels.
    await send(Array.from({ length: a.partitions }, (_, partition) => ({ ...collectorRecord(aggregationEvent(a.shape, -1 - partition, Number(eventBytes)), Date.now()), partition })));
    return { ms: Date.now() - t0 };
  },

  /** The baseline: resolves once `expected` records were parsed (or at the deadline). */
  bareParse: async (a: { topic: string; groupId: string; expected: number; timeoutMs: number }) => {
    const c = (consumer = kafka.consumer({ groupId: a.groupId, fromBeginning: true, maxWaitTimeInMs: 100 }));
    let parsed = 0;
    let sink = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    await c.connect();
    await c.subscribe({ topics: [a.topic] });
    await c.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const e = JSON.parse(m.value!.toString("utf8")) as Record<string, unknown>;
          if (e.event_id !== undefined) sink++;
          parsed++;
        }
        if (parsed >= a.expected) resolveDone();
      },
    });
    const timer = setTimeout(resolveDone, a.timeoutMs);
    await done;
    clearTimeout(timer);
    return { parsed, sink };
  },

  /** The real worker, as `sluice run` starts it; the orchestrator watches its committed offsets. */
  startAggregation: async (a: { namespace: string; name: string; table: string; kind: WindowKind }) => {
    const p = benchPipeline(a.namespace, database, "unused");
    const spec = aggregationSpec.parse(aggregationSpecFor(a.kind, p.stream.name, database, a.table));
    const job = compileAggregationJob({ kind: "Aggregation", metadata: { name: a.name, namespace: a.namespace }, spec }, [p.stream], a.namespace);
    handle = await startAggregation({ aggregation: job, kafkaBrokers: brokers, clickhouseUrl, registry, logger: process.env.BENCH_AGG_LOG ? jsonLogger("aggregation") : silentLogger });
    handle.failed.catch((err: Error) => {
      console.error(`bench aggregate: aggregation failed: ${err.message}`);
      process.exit(1);
    });
    return { groupId: job.groupId, topic: job.stream.topic };
  },

  /** What the worker did, from its own metrics. */
  summary: async () => ({
    rowsEmitted: await sumMetric("sluice_aggregation_rows_emitted_total"),
    lateEvents: await sumMetric("sluice_aggregation_late_events_total"),
    deadLetters: await sumMetric("sluice_aggregation_dead_letters_total"),
    writeRetries: await sumMetric("sluice_aggregation_write_retries_total"),
  }),

  /** The pure engine holding `keys` open (window, group) keys: one event each, watermark held back. */
  memEngine: async (a: MemArgs) => {
    // Tumbling 1m, group by user_id, count + uniqExact + sum, maxOutOfOrderness far beyond
    // the fed event times: no window closes, every key stays in memory.
    const spec = aggregationSpec.parse(aggregationSpecFor("tumbling", "page-views", "unused", "unused", "48h"));
    const engine = new AggregationEngine(compileAggregation(spec), () => 0);
    engine.assign([0]);
    let late = 0;
    const r = await memoryStages(a, (from, to) => {
      for (let i = from; i < to; i++) {
        const e = memEvent(i, a.groups);
        for (const o of engine.onEvent({ partition: 0, offset: i, eventId: e.eventId, eventTimeMs: e.eventTimeMs, row: e.row })) if (o.kind === "late") late++;
      }
    }, () => engine.stateSize().windows);
    return { ...(r as object), late };
  },

  /** The baseline: a Map with the same keys as the engine's, a small object each. */
  memMap: async (a: MemArgs) => {
    const map = new Map<string, { count: number; sum: number; offset: number }>();
    return memoryStages(a, (from, to) => {
      for (let i = from; i < to; i++) {
        const e = memEvent(i, a.groups);
        map.set(`${e.windowStart}|${e.windowStart + 60_000}|${JSON.stringify([e.row.user_id])}`, { count: 1, sum: Number(e.row.duration_ms), offset: i });
      }
    }, () => map.size);
  },

  stop: async () => {
    await handle?.stop();
    await consumer?.disconnect();
    await producer?.disconnect();
    return {};
  },
});

/** Key i: group i % groups, minute floor(i / groups); each key gets exactly one event. */
function memEvent(i: number, groups: number) {
  const windowStart = 1_700_000_040_000 + Math.floor(i / groups) * 60_000;
  const eventTimeMs = windowStart + 1_000 + (i % 50_000);
  return {
    eventId: `mem-${i}`,
    eventTimeMs,
    windowStart,
    row: { event_id: `mem-${i}`, tenant_id: "shop-a", user_id: `user-${i % groups}`, event_time: eventTimeMs, url: `https://shop.example/p/${i % 131}`, duration_ms: i % 60_000, referrer: "" },
  };
}
