/**
 * Benchmark 1: collector events/s, and events per CPU-second of the collector process
 * (= per core), against bare producers, each in its own process, sending the same
 * records to a topic of the same config with the same acks=all, idempotence, batch size
 * and concurrency: kafkajs (the reference adapter), librdkafka through Confluent's
 * KafkaJS-shaped API and through its native produce() (the collector's own client), and
 * @platformatic/kafka. The HTTP load generator runs in its own process, so no side
 * is charged for generating load.
 */
import { startChild } from "./child.js";
import type { BareProducer } from "./children/bare.js";
import type { BenchContext } from "./context.js";
import { figure, type Figure } from "./report.js";

export interface CollectorThroughput {
  figures: Figure[];
  /** Events/s the collector sustained: the capacity the latency runs are paced against. */
  capacityEventsPerSecond: number;
  detail: Record<string, unknown>;
}

interface Burst {
  wallMs: number;
  accepted: number;
  statuses: Record<string, number>;
}

export async function collectorThroughput(ctx: BenchContext): Promise<CollectorThroughput> {
  const { cfg } = ctx;
  const p = await ctx.newPipeline("bench-c", "unused");
  const childEnv = { kafkaBrokers: ctx.kafkaBrokers, clickhouseUrl: ctx.clickhouseUrl, database: ctx.database, eventBytes: String(cfg.eventBytes) };
  const shape = { perRequest: cfg.perRequest, concurrency: cfg.concurrency, tenants: p.tenants };

  const worker = await startChild("worker", childEnv, "collector");
  const load = await startChild("load", childEnv, "collector-load");
  let sluice: Burst & { cpuMs: number };
  try {
    const { url } = await worker.call<{ url: string }>("startCollector", { namespace: p.stream.namespace });
    // Warm-up: connections, JIT, producer metadata; not measured.
    await load.call<Burst>("burst", { ...shape, url, prefix: `${ctx.runId}-cw`, events: Math.min(5_000, cfg.collectorEvents) });
    const before = await worker.stats();
    const run = await load.call<Burst>("burst", { ...shape, url, prefix: `${ctx.runId}-c`, events: cfg.collectorEvents }, 300_000);
    sluice = { ...run, cpuMs: (await worker.stats()).cpuMs - before.cpuMs };
  } finally {
    await load.stop();
    await worker.stop();
  }

  const bareProducer = async (producer: BareProducer, tag: string) => {
    const bare = await startChild("bare", { ...childEnv, producer }, `bare-producer-${producer}`);
    try {
      const args = { topic: p.stream.topic, perRequest: cfg.perRequest, concurrency: cfg.concurrency };
      await bare.call("produce", { ...args, prefix: `${ctx.runId}-${tag}w`, events: Math.min(5_000, cfg.collectorEvents) });
      return await bare.call<{ wallMs: number; cpuMs: number; events: number }>("produce", { ...args, prefix: `${ctx.runId}-${tag}`, events: cfg.collectorEvents }, 300_000);
    } finally {
      await bare.stop();
    }
  };
  const base = await bareProducer("kafkajs", "b");
  const rdkafka = await bareProducer("librdkafka", "r");
  const native = await bareProducer("librdkafka-native", "n");
  const platformatic = await bareProducer("platformatic", "p");

  const perSecond = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : 0);
  const sluiceRate = perSecond(sluice.accepted, sluice.wallMs);
  const refused = cfg.collectorEvents - sluice.accepted;
  const bench = `1 collector (${cfg.eventBytes} B events, ${cfg.perRequest}/request)`;
  return {
    capacityEventsPerSecond: sluiceRate,
    figures: [
      figure({ bench, metric: "events/s per core", unit: "ev/s/core", value: perSecond(sluice.accepted, sluice.cpuMs), baseline: "bare kafkajs producer", baselineValue: perSecond(base.events, base.cpuMs), note: "events per CPU-second of the collector process vs of the producer process" }),
      figure({ bench, metric: "events/s per core", unit: "ev/s/core", value: perSecond(sluice.accepted, sluice.cpuMs), baseline: "bare librdkafka producer", baselineValue: perSecond(rdkafka.events, rdkafka.cpuMs) }),
      figure({ bench, metric: "events/s per core", unit: "ev/s/core", value: perSecond(sluice.accepted, sluice.cpuMs), baseline: "bare librdkafka native produce()", baselineValue: perSecond(native.events, native.cpuMs) }),
      figure({ bench, metric: "events/s per core", unit: "ev/s/core", value: perSecond(sluice.accepted, sluice.cpuMs), baseline: "bare @platformatic/kafka producer", baselineValue: perSecond(platformatic.events, platformatic.cpuMs) }),
      figure({ bench, metric: "events/s (wall)", unit: "ev/s", value: sluiceRate, baseline: "bare kafkajs producer", baselineValue: perSecond(base.events, base.wallMs), ...(refused > 0 ? { note: `${refused} events refused (statuses ${JSON.stringify(sluice.statuses)})` } : {}) }),
      figure({ bench, metric: "events/s (wall)", unit: "ev/s", value: sluiceRate, baseline: "bare librdkafka producer", baselineValue: perSecond(rdkafka.events, rdkafka.wallMs) }),
    ],
    detail: { topic: p.stream.topic, collector: sluice, bareProducer: base, bareLibrdkafkaProducer: rdkafka, bareLibrdkafkaNativeProducer: native, barePlatformaticProducer: platformatic },
  };
}
