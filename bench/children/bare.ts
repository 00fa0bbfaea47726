/**
 * The baselines: what the same work costs with the client libraries alone. A bare
 * producer (idempotent, acks=all, like the collector's) sending the records the collector
 * would produce, and a bare consume-and-insert loop (eachBatch -> JSONEachRow insert; no
 * validation, no dedupe, no dead letters, no commit intents).
 *
 * The producer is the child argument `producer`, one adapter of the port each: "kafkajs"
 * (the default; the reference adapter in runtime/kafka/kafkajs/producer.ts), "librdkafka"
 * (Confluent's binding through its KafkaJS-shaped API, runtime/kafka/confluent/producer.ts),
 * "librdkafka-native" (the binding's own produce(), confluent/native-producer.ts) or
 * "platformatic" (@platformatic/kafka). The loop consumes through `kafkaClient().consumer()`.
 * `read` is a bare read loop per consumer client (runtime/kafka/read-loop.ts).
 */
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { confluentProducer } from "../../runtime/kafka/confluent/producer.js";
import { confluentNativeProducer } from "../../runtime/kafka/confluent/native-producer.js";
import { kafkajsProducer } from "../../runtime/kafka/kafkajs/producer.js";
import { platformaticProducer } from "../../runtime/kafka/platformatic/producer.js";
import { nativeReadLoop, portReadLoop } from "../../runtime/kafka/confluent/read-loop.js";
import { kafkajsReadLoop } from "../../runtime/kafka/kafkajs/read-loop.js";
import { platformaticReadLoop } from "../../runtime/kafka/platformatic/read-loop.js";
import type { KafkaConsumer, KafkaProducer, OutMessage } from "../../runtime/kafka/port.js";
import { collectorRecord, makeEvent, tenantFor } from "../events.js";
import { childArgs, processStats, serve } from "./serve.js";

// kafkajs's consumer sets a timer with a negative delay (tulios/kafkajs#1751), which Node
// clamps to 1 ms and warns about in the middle of the report: that one warning is dropped.
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (w.name !== "TimeoutNegativeWarning") console.warn(w);
});

const { kafkaBrokers, clickhouseUrl, eventBytes, producer: producerClient = "kafkajs" } =
  childArgs<{ kafkaBrokers: string; clickhouseUrl: string; eventBytes: string; producer?: BareProducer }>();

export type BareProducer = keyof typeof PRODUCERS;
const PRODUCERS = {
  kafkajs: kafkajsProducer,
  librdkafka: confluentProducer,
  "librdkafka-native": confluentNativeProducer,
  platformatic: platformaticProducer,
};
/** The read loops of `read`: the port's consumer ("librdkafka") and the other clients'. */
export type BareConsumer = keyof typeof READ_LOOPS;
const READ_LOOPS = {
  librdkafka: portReadLoop,
  "librdkafka-native": nativeReadLoop,
  kafkajs: kafkajsReadLoop,
  platformatic: platformaticReadLoop,
};
const brokers = kafkaBrokers.split(",");
const kafka = kafkaClient(brokers, "sluice-bench-bare");
let producer: KafkaProducer | undefined;
let consumer: KafkaConsumer | undefined;
let clickhouse: ClickHouseClient | undefined;

async function connectedProducer(): Promise<KafkaProducer> {
  if (!producer) {
    // Each send gives up after 10 s.
    const o = { deliveryTimeoutMs: 10_000 };
    const p = PRODUCERS[producerClient](brokers, "sluice-bench-bare", o);
    await p.connect();
    producer = p;
  }
  return producer;
}

function requestRecords(prefix: string, r: number, perRequest: number): OutMessage[] {
  const now = Date.now();
  const out: OutMessage[] = [];
  for (let i = r * perRequest; i < (r + 1) * perRequest; i++) out.push(collectorRecord(makeEvent(prefix, i, tenantFor(r), Number(eventBytes), now), now));
  return out;
}

/** DateTime on 18.16 (second precision), DateTime64(3) text on current servers: what the sink's encodeRow writes. */
function chTime(ms: number, dateTime64: boolean): string | number {
  return dateTime64 ? new Date(ms).toISOString().replace("T", " ").replace("Z", "") : Math.floor(ms / 1000);
}

serve({
  /** Records are built before the clock starts: the baseline is the sending alone. */
  produce: async (a: { topic: string; prefix: string; events: number; perRequest: number; concurrency: number }) => {
    const p = await connectedProducer();
    const requests = Math.ceil(a.events / a.perRequest);
    const batches = Array.from({ length: requests }, (_, r) => requestRecords(a.prefix, r, a.perRequest));
    let next = 0;
    const cpu0 = processStats().cpuMs;
    const t0 = Date.now();
    await Promise.all(Array.from({ length: a.concurrency }, async () => {
      while (next < requests) {
        const messages = batches[next++]!;
        await p.send({ topic: a.topic, messages });
      }
    }));
    return { wallMs: Date.now() - t0, cpuMs: processStats().cpuMs - cpu0, events: requests * a.perRequest };
  },
  /** Fixed rate, like the load generator's `rate`; accepts are [firstEventIndex, count, ackedAtMs]. */
  produceRate: async (a: { topic: string; prefix: string; eventsPerSecond: number; durationMs: number; perRequest: number; maxInFlight: number }) => {
    const p = await connectedProducer();
    const accepts: [number, number, number][] = [];
    const inFlight = new Set<Promise<void>>();
    let sent = 0;
    let skipped = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < a.durationMs) {
      for (let d = Math.floor(((Date.now() - t0) * a.eventsPerSecond) / 1000 / a.perRequest); sent < d; sent++) {
        if (inFlight.size >= a.maxInFlight) {
          skipped++;
          continue;
        }
        const r = sent;
        const s: Promise<void> = p.send({ topic: a.topic, messages: requestRecords(a.prefix, r, a.perRequest) }).then(
          () => void accepts.push([r * a.perRequest, a.perRequest, Date.now()]),
          () => {},
        ).finally(() => inFlight.delete(s));
        inFlight.add(s);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all([...inFlight]);
    return { wallMs: Date.now() - t0, requests: sent, skipped, accepts };
  },
  consume: async (a: { topic: string; groupId: string; table: string; dateTime64: boolean }) => {
    const ch = (clickhouse = createClient({ url: clickhouseUrl, request_timeout: 30_000 }));
    const c = (consumer = kafka.consumer({ groupId: a.groupId, fromBeginning: true, maxWaitTimeInMs: 100 }));
    await c.connect();
    await c.subscribe({ topics: [a.topic] });
    await c.run({
      eachBatch: async ({ batch }) => {
        const values = batch.messages.map((m) => {
          const e = JSON.parse(m.value!.toString("utf8")) as Record<string, unknown>;
          const ingest = Number(m.headers?.["sluice-ingest-time"]?.toString() ?? m.timestamp);
          return {
            ...e,
            event_time: chTime(Date.parse(String(e.event_time)), a.dateTime64),
            _ingest_time: chTime(ingest, a.dateTime64),
            _kafka_partition: batch.partition,
            _kafka_offset: Number(m.offset),
            _schema_version: 1,
          };
        });
        if (values.length > 0) await ch.insert({ table: a.table, values, format: "JSONEachRow" });
      },
    });
    return {};
  },
  /**
   * Reads `records` records of a topic from the start with one client's bare loop, parsing
   * each value as JSON (what every Sluice reader does first). The CPU count starts before
   * the client connects, not at the first record: a client that fetches and decodes ahead
   * (@platformatic/kafka decodes whole fetch responses before its stream hands out the
   * first record) would otherwise have that work left out. Connecting and joining cost a
   * few tens of CPU-ms, the same for every client. The wall clock starts at the first record.
   */
  read: async (a: { client: BareConsumer; topic: string; groupId: string; records: number }) => {
    const cpu0 = processStats().cpuMs;
    let t0 = 0;
    let cpu1 = 0;
    let t1 = 0;
    let n = 0;
    await READ_LOOPS[a.client]({
      brokers, clientId: `sluice-bench-read-${a.client}`, topic: a.topic, groupId: a.groupId, records: a.records,
      onValue: (v) => {
        if (n++ === 0) t0 = Date.now();
        JSON.parse(v.toString("utf8"));
        // Stopped at the last record: leaving the group is not measured either.
        if (n === a.records) {
          cpu1 = processStats().cpuMs;
          t1 = Date.now();
        }
      },
    });
    return { records: n, cpuMs: cpu1 - cpu0, wallMs: t1 - t0 };
  },
  stop: async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await clickhouse?.close();
    return {};
  },
});
