/**
 * Commit metadata round-trips through our Kafka port: what the consumer commits with an
 * offset is what the admin reads back, byte for byte. An Aggregation keeps its checkpoint
 * there; the librdkafka-based consumer stores it with a trailing NUL, which made every
 * checkpoint unreadable to the admin (kafkajs) side until the port stripped it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kafkaClient } from "../../runtime/kafka/client.js";
import type { KafkaAdmin, KafkaConsumer } from "../../runtime/kafka/port.js";
import { waitFor } from "../../testbed/poll.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

describe("commit metadata through the Kafka port", () => {
  const env = testbedEnv();
  const topic = randomName("commit-metadata");
  const groupId = randomName("commit-metadata-group");
  const client = kafkaClient(env.kafkaBrokers, "commit-metadata-test");
  let admin: KafkaAdmin;
  let consumer: KafkaConsumer;
  let assigned: number[] = [];

  beforeAll(async () => {
    admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
    consumer = client.consumer({ groupId, onAssigned: (p) => (assigned = p) });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachBatch: async () => {} });
    await waitFor("the partitions assigned", async () => (assigned.length === 2 ? true : undefined), { timeoutMs: 60_000 });
  });
  afterAll(async () => {
    await consumer?.disconnect();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin?.disconnect();
  });

  it("reads back exactly the metadata committed, and none where none was given", async () => {
    const checkpoint = JSON.stringify({ v: 1, w: 1795944296330, n: 506, m: null });
    await consumer.commitOffsets([
      { topic, partition: 0, offset: "3", metadata: checkpoint },
      { topic, partition: 1, offset: "0" },
    ]);
    const [read] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const byPartition = new Map(read!.partitions.map((p) => [p.partition, p]));
    expect(byPartition.get(0)).toEqual({ partition: 0, offset: "3", metadata: checkpoint });
    expect(JSON.parse(byPartition.get(0)!.metadata!)).toMatchObject({ n: 506 });
    expect(byPartition.get(1)?.metadata ?? "").toBe("");
  });
});
