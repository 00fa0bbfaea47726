import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPipeline } from "../../runtime/pipeline/load.js";
import { runPipeline, type RunningPipeline } from "../../runtime/pipeline/run-pipeline.js";
import { silentLogger } from "../../runtime/log.js";
import type { CompiledPipeline } from "../../runtime/pipeline/compiled.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { clickEvent, runLoad } from "../../testbed/load-generator.js";
import { oracle } from "../../testbed/oracle.js";
import { readToEnd } from "../../testbed/read-topic.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import type { KafkaAdmin, KafkaClient } from "../../runtime/kafka/port.js";

/** Every record of a topic (read to its end, read_committed), counted by one header's value. */
async function countByHeader(kafka: KafkaClient, topic: string, header: string): Promise<{ total: number; counts: Record<string, number> }> {
  const counts: Record<string, number> = {};
  const records = await readToEnd(kafka, topic);
  for (const m of records) {
    const key = m.headers?.[header]?.toString() ?? "(none)";
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return { total: records.length, counts };
}

async function sinkLag(admin: KafkaAdmin, groupId: string, topic: string): Promise<number> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  return ends.reduce((lag, p) => {
    const c = committed!.partitions.find((cp) => cp.partition === p.partition);
    const at = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(p.low);
    return lag + Number(p.high) - at;
  }, 0);
}

/**
 * The whole data path on real servers — HTTP collector -> Kafka -> sink -> ClickHouse —
 * judged by one oracle: every id the collector acknowledged is in ClickHouse (lost = 0)
 * and no id is there twice when read the documented way (duplicates = 0).
 */
describe("the clickstream pipeline, end to end", () => {
  const env = testbedEnv();
  let pipeline: CompiledPipeline;
  let running: RunningPipeline;
  let table: string;
  const tenants = { "shop-a": "demo-key-shop-a", "shop-b": "demo-key-shop-b" };

  beforeAll(async () => {
    // A private namespace gives private topics and consumer groups; a private database, a private table.
    pipeline = loadPipeline([join(repoRoot, "examples", "clickstream")], randomName("e2e"));
    const stream = pipeline.streams[0]!;
    stream.partitions = 4;
    stream.deadLetterTopic = `${stream.topic}.dlq`;
    stream.ingest.rateLimit = undefined;
    const sink = pipeline.sinks[0]!;
    sink.database = randomName("e2e").replace("-", "_");
    sink.batching.maxDelayMs = 200;
    table = `${sink.database}.${sink.table}`;
    for (const a of pipeline.aggregations) {
      a.output.database = sink.database;
      if (a.late.policy === "Table") a.late.database = sink.database;
    }
    running = await runPipeline({ pipeline, kafkaBrokers: env.kafkaBrokers, clickhouseUrl: env.clickhouseUrl, port: 0, log: silentLogger });
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
  });

  const counter = async (name: string) => {
    const m = await running.registry.getSingleMetric(name)?.get();
    return (m?.values ?? []).reduce((n, v) => n + v.value, 0);
  };

  /** Waits until every accepted id is in ClickHouse, then reads the settled table once more. */
  const settle = async (accepted: Set<string>) => {
    await waitFor("every accepted event in ClickHouse", async () => ((await oracle(env.clickhouseUrl, table, accepted)).lost === 0 ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    return oracle(env.clickhouseUrl, table, accepted);
  };

  it("takes 200k events through collector, Kafka and sink with nothing lost or duplicated", async () => {
    const load = await runLoad({ url: running.collectorUrl, stream: "page-views", tenants, events: 200_000, perRequest: 500, concurrency: 8 });
    expect(load.accepted.size).toBe(200_000);
    const v = await settle(load.accepted);
    console.log(`scale: accepted ${v.accepted}, raw rows ${v.rawRows}, deduplicated rows ${v.dedupedRows}, lost ${v.lost}, duplicates ${v.duplicates}`);
    expect(v.duplicates).toBe(0);
  }, 300_000);

  it("stores one row per id when 10% of requests are re-sent", async () => {
    const droppedBefore = await counter("sluice_sink_duplicates_dropped_total");
    const load = await runLoad({ url: running.collectorUrl, stream: "page-views", tenants, events: 20_000, perRequest: 100, concurrency: 4, retryFraction: 0.1 });
    expect(load.resent).toBeGreaterThan(5);
    const v = await settle(load.accepted);
    const dropped = (await counter("sluice_sink_duplicates_dropped_total")) - droppedBefore;
    console.log(`retries: resent ${load.resent} requests (${load.resent * 100} duplicate records in Kafka); sink dropped ${dropped} in-batch; table raw rows ${v.rawRows}, deduplicated ${v.dedupedRows}`);
    expect(v.duplicates).toBe(0);
    // The duplicates reached Kafka and the sink removed them; those split across two
    // batches are collapsed by the table (ReplacingMergeTree merges may already have run).
    expect(dropped).toBeGreaterThan(0);
  }, 180_000);

  it("sends every poison record to the dead-letter topic, exactly, without blocking valid ones", async () => {
    const stream = pipeline.streams[0]!;
    const kafka = kafkaClient(env.kafkaBrokers, "e2e-poison");
    const producer = kafka.producer();
    await producer.connect();
    const valid = new Set<string>();
    const messages = [];
    let poison = 0;
    for (let i = 0; i < 5_000; i++) {
      if (i % 100 === 7) {
        poison++;
        // Three kinds of poison: not JSON, wrong type, missing a required field.
        const bad = [`{"event_id": "p${i}", oops`, JSON.stringify({ ...clickEvent(i, "shop-a"), event_time: "yesterday" }), JSON.stringify({ event_id: `p${i}` })][poison % 3]!;
        messages.push({ key: `k${i}`, value: bad });
      } else {
        const e = clickEvent(i, "shop-b");
        valid.add(String(e.event_id));
        messages.push({ key: String(e.user_id), value: JSON.stringify(e) });
      }
    }
    await producer.send({ topic: stream.topic, messages });
    await producer.disconnect();
    const v = await settle(valid);
    expect(v.duplicates).toBe(0);

    // Exactly once into the DLQ: wait until the sink has committed everything it read
    // (lag 0), then count what the dead-letter topic holds.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await waitFor("sink lag 0", async () => ((await sinkLag(admin, pipeline.sinks[0]!.groupId, stream.topic)) === 0 ? true : undefined), { timeoutMs: 60_000 });
      const consumers = 1 + pipeline.aggregations.filter((a) => a.stream.name === stream.name).length;
      // Offsets cannot be counted (transaction markers take some): read until every
      // consumer's dead letters are there, then check nothing extra is.
      let dead = { total: 0, counts: {} as Record<string, number> };
      await waitFor("every consumer's dead letters", async () => ((dead = await countByHeader(kafka, stream.deadLetterTopic, "sluice-sink")).total >= poison * consumers ? true : undefined), { timeoutMs: 90_000, intervalMs: 2_000 });
      // Every consumer of the stream (the sink and the aggregation) dead-letters what it
      // cannot read, tagged with its name: each must have done so exactly once per poison.
      const byConsumer = dead.counts;
      console.log(`poison: ${poison} poison records among 5000; dead letters by consumer ${JSON.stringify(byConsumer)}; ${valid.size} valid delivered`);
      expect(byConsumer[`${pipeline.sinks[0]!.namespace}/${pipeline.sinks[0]!.name}`]).toBe(poison);
      expect(Object.values(byConsumer).every((n) => n === poison)).toBe(true);
      expect(dead.total).toBe(poison * consumers);
    } finally {
      await admin.disconnect();
    }
  }, 180_000);

  it("delivers schema-valid events written straight to the topic by kcat (librdkafka)", async () => {
    const stream = pipeline.streams[0]!;
    const events = Array.from({ length: 50 }, (_, i) => clickEvent(i, "shop-a"));
    const input = events.map((e) => `${e.user_id}\t${JSON.stringify(e)}`).join("\n") + "\n";
    execFileSync("kcat", ["-P", "-b", env.kafkaBrokers.join(","), "-t", stream.topic, "-K", "\t"], { input });
    const v = await settle(new Set(events.map((e) => String(e.event_id))));
    expect(v.duplicates).toBe(0);
  }, 120_000);
});
