/**
 * The port's producer (librdkafka's native produce(), runtime/kafka/confluent/native-producer.ts)
 * keeps the settings Sluice's guarantees rest on. Written after the binding silently
 * dropped them: given a topic config argument, even an empty one, it replaced the default
 * topic config, so keyed records went through librdkafka's own partitioner instead of
 * Java's murmur2 (a key would change partition when a stream moved between clients), and
 * the delivery timeout fell back to 5 minutes (collector.test.ts's "answers 503" case).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kafkaClient } from "../../runtime/kafka/client.js";
import type { KafkaAdmin, KafkaProducer, ReadRecord } from "../../runtime/kafka/port.js";
import { waitFor } from "../../testbed/poll.js";
import { javaPartition } from "../support/murmur2.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

describe("the port's producer", () => {
  const env = testbedEnv();
  const topic = randomName("producer");
  const client = kafkaClient(env.kafkaBrokers, "producer-test");
  const partitions = 12;
  let admin: KafkaAdmin;
  let producer: KafkaProducer;

  beforeAll(async () => {
    admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
    producer = client.producer();
    await producer.connect();
  });
  afterAll(async () => {
    await producer?.disconnect();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin?.disconnect();
  });

  it("places keyed records on the partition Kafka's Java clients choose (murmur2), with their headers, and settles each send once all are acknowledged", async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    // Two concurrent sends: each resolves only for its own records.
    await Promise.all([0, 1].map((half) =>
      producer.send({ topic, messages: keys.filter((_, i) => i % 2 === half).map((key) => ({ key, value: `{"k":"${key}"}`, headers: { "sluice-tenant": `t-${key}` } })) }),
    ));
    const ends = await admin.fetchTopicOffsets(topic);
    expect(ends.reduce((n, p) => n + Number(p.high), 0)).toBe(keys.length);

    const reader = client.reader();
    await reader.connect();
    const seen: ReadRecord[] = [];
    try {
      reader.assign(topic, ends.map((p) => ({ partition: p.partition, offset: "0" })));
      await waitFor("every record read back", async () => {
        seen.push(...(await reader.read(500, 500)));
        return seen.length >= keys.length ? true : undefined;
      }, { timeoutMs: 60_000 });
    } finally {
      await reader.disconnect();
    }
    expect(seen).toHaveLength(keys.length);
    for (const r of seen) {
      const key = r.message.key!.toString();
      expect({ key, partition: r.partition }).toEqual({ key, partition: javaPartition(key, partitions) });
      expect(r.message.value!.toString()).toBe(`{"k":"${key}"}`);
      expect(r.message.headers["sluice-tenant"]).toBe(`t-${key}`);
    }
  });

  it("sends to a chosen partition, and resolves an empty send at once", async () => {
    await producer.send({ topic, messages: [] });
    await producer.send({ topic, messages: [{ key: "user-0", value: "pinned", partition: 7 }] });
    const ends = await admin.fetchTopicOffsets(topic);
    const before = javaPartition("user-0", partitions) === 7 ? 1 : 0;
    expect(Number(ends.find((p) => p.partition === 7)!.high)).toBeGreaterThanOrEqual(1 + before);
  });

  it("settles each of many concurrent sends for exactly its own records, every header as sent", async () => {
    // The patched binding reports deliveries in batches that mix sends; each message's
    // opaque is its send's number (patches/README.md).
    const own = randomName("producer-many");
    await admin.createTopics({ topics: [{ topic: own, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
    try {
      const sends = Array.from({ length: 60 }, (_, s) => Array.from({ length: 1 + (s * 7) % 40 }, (_, i) => ({
        key: `k-${s}-${i}`,
        value: JSON.stringify({ s, i }),
        headers: { "sluice-ingest-time": String(1_700_000_000_000 + s), "sluice-tenant": `tënant-${s}`, "x-€": "ünïcode ✓" },
      })));
      const settled: number[] = [];
      await Promise.all(sends.map((messages, s) => producer.send({ topic: own, messages }).then(() => settled.push(s))));
      expect(settled.sort((a, b) => a - b)).toEqual(sends.map((_, s) => s));
      const total = sends.reduce((n, m) => n + m.length, 0);
      const ends = await admin.fetchTopicOffsets(own);
      expect(ends.reduce((n, p) => n + Number(p.high), 0)).toBe(total);
      const reader = client.reader();
      await reader.connect();
      const seen = new Map<string, Record<string, string>>();
      try {
        reader.assign(own, ends.map((p) => ({ partition: p.partition, offset: "0" })));
        await waitFor("every record read back", async () => {
          for (const r of await reader.read(1000, 500)) seen.set(r.message.key!.toString(), r.message.headers);
          return seen.size >= total ? true : undefined;
        }, { timeoutMs: 60_000 });
      } finally {
        await reader.disconnect();
      }
      sends.forEach((messages) => messages.forEach((m) => expect({ key: m.key, headers: seen.get(m.key) }).toEqual({ key: m.key, headers: m.headers })));
    } finally {
      await admin.deleteTopics({ topics: [own] }).catch(() => {});
    }
  });

  it("fails a send whose record the broker refuses, naming the cause, and still delivers the rest", async () => {
    const small = randomName("producer-small");
    await admin.createTopics({ topics: [{ topic: small, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: "max.message.bytes", value: "2000" }] }], waitForLeaders: true });
    try {
      // The refusal comes back in a delivery report, not from produce(): librdkafka checks
      // only its own message.max.bytes (1 MB) before sending. Random bytes: compressed,
      // the batch is still over the topic's limit.
      await expect(producer.send({ topic: small, messages: [{ value: randomBytes(10_000) }] })).rejects.toThrow(/too large|size/i);
      await producer.send({ topic: small, messages: [{ value: "fits" }] });
      const ends = await admin.fetchTopicOffsets(small);
      expect(Number(ends[0]!.high)).toBe(1);
    } finally {
      await admin.deleteTopics({ topics: [small] }).catch(() => {});
    }
  });

  it("fails a send to a partition the topic does not have, naming the cause", async () => {
    await expect(producer.send({ topic, messages: [{ value: "x", partition: partitions + 5 }] })).rejects.toThrow(/partition/i);
  });
});
