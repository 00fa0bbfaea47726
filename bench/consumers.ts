/**
 * Benchmark 2, consumers: the consume side of the Kafka client choice (issue 14 asks for
 * the producer and the consumer separately). Each client's bare read loop
 * (runtime/kafka/read-loop.ts: read, JSON.parse, nothing else) reads the same records in
 * its own process: the sink benchmark's pre-filled topic (lz4, the streams' default), and
 * an uncompressed copy for kafkajs, which ships no lz4 codec. Records per CPU-second of the
 * reading process, librdkafka's threads included, from before it connects to its last record.
 */
import { randomBytes } from "node:crypto";
import { startChild } from "./child.js";
import type { BareConsumer } from "./children/bare.js";
import type { BenchContext } from "./context.js";
import { figure, type Figure } from "./report.js";

interface Read {
  records: number;
  cpuMs: number;
  wallMs: number;
}

const NAMES: Record<BareConsumer, string> = {
  librdkafka: "librdkafka via the port (consume(n), runtime/kafka/confluent/consumer.ts)",
  "librdkafka-native": "librdkafka native consume()",
  kafkajs: "kafkajs 2.2.4",
  platformatic: "@platformatic/kafka",
};

export async function consumerThroughput(ctx: BenchContext, lz4Topic: string, records: number): Promise<{ figures: Figure[]; detail: Record<string, unknown> }> {
  const childEnv = { kafkaBrokers: ctx.kafkaBrokers, clickhouseUrl: ctx.clickhouseUrl, database: ctx.database, eventBytes: String(ctx.cfg.eventBytes) };
  const read = async (client: BareConsumer, topic: string, tag: string): Promise<Read> => {
    const child = await startChild("bare", childEnv, `read-${client}-${tag}`);
    try {
      const r = await child.call<Read>("read", { client, topic, groupId: `bench-read-${ctx.runId}-${client}-${tag}-${randomBytes(3).toString("hex")}`, records }, 300_000);
      console.log(`  read ${tag}: ${NAMES[client]}: ${r.records} records in ${r.wallMs} ms, ${Math.round((r.records * 1000) / r.cpuMs)} per CPU-second`);
      return r;
    } finally {
      await child.stop();
    }
  };

  const lz4: Partial<Record<BareConsumer, Read>> = {};
  for (const c of ["librdkafka", "librdkafka-native", "platformatic"] as const) lz4[c] = await read(c, lz4Topic, "lz4");

  const [meta] = (await ctx.admin.fetchTopicMetadata({ topics: [lz4Topic] })).topics;
  const plain = `bench-read-${ctx.runId}-uncompressed`;
  await ctx.admin.createTopics({ topics: [{ topic: plain, numPartitions: meta!.partitions.length, replicationFactor: 1, configEntries: [{ name: "compression.type", value: "uncompressed" }] }], waitForLeaders: true });
  const uncompressed: Partial<Record<BareConsumer, Read>> = {};
  try {
    const filler = await startChild("bare", childEnv, "read-filler");
    try {
      await filler.call("produce", { topic: plain, prefix: `${ctx.runId}-r`, events: records, perRequest: 500, concurrency: 8 }, 300_000);
    } finally {
      await filler.stop();
    }
    for (const c of ["librdkafka", "kafkajs", "platformatic"] as const) uncompressed[c] = await read(c, plain, "uncompressed");
  } finally {
    if (!ctx.cfg.keep) await ctx.admin.deleteTopics({ topics: [plain], timeout: 30_000 }).catch(() => {});
  }

  const perCpu = (r: Read | undefined) => (r && r.cpuMs > 0 ? (r.records * 1000) / r.cpuMs : null);
  const bench = `2 consumers (read ${records} records + JSON.parse)`;
  const row = (topic: string, reads: Partial<Record<BareConsumer, Read>>, other: BareConsumer) =>
    figure({ bench, metric: `records per CPU-second, ${topic} topic`, unit: "rec/s/core", value: perCpu(reads.librdkafka), baseline: NAMES[other], baselineValue: perCpu(reads[other]), note: `value: ${NAMES.librdkafka}, the client the sink and the aggregation run` });
  return {
    figures: [row("lz4", lz4, "librdkafka-native"), row("lz4", lz4, "platformatic"), row("uncompressed", uncompressed, "kafkajs"), row("uncompressed", uncompressed, "platformatic")],
    detail: { lz4, uncompressed },
  };
}
