import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKafka, type KafkaCluster } from "../../testbed/kafka.js";
import { waitFor } from "../../testbed/poll.js";
import { randomName } from "../support/testbed-env.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { createTopicsAndWait } from "../../runtime/kafka/ensure-topic.js";

// Kafka 4 removed old protocol versions (KIP-896); this proves our client still speaks
// to it, and that the testbed can run a replicated three-node quorum.
const KAFKA4 = process.env.KAFKA4_VERSION ?? "4.1.1";

describe(`a three-node Kafka ${KAFKA4} cluster`, () => {
  let cluster: KafkaCluster;
  const dir = mkdtempSync(join(tmpdir(), "sluice-kafka4-"));
  beforeAll(async () => {
    cluster = await startKafka({ dir, logDir: dir, brokers: 3, version: KAFKA4 });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(cluster?.servers.map((s) => s.stop()) ?? []);
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps accepting acks=all writes with one broker down", async () => {
    const kafka = kafkaClient(cluster.bootstrap.split(","), "smoke4");
    const topic = randomName("replicated");
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsAndWait(admin, [{ topic, numPartitions: 3, replicationFactor: 3, configEntries: [{ name: "min.insync.replicas", value: "2" }] }]);
    const producer = kafka.producer();
    await producer.connect();
    // KRaft brokers learn new leaders asynchronously: right after creation (or a broker
    // stop) a broker may still answer "does not host this topic-partition", a retriable
    // error. Retry those until a deadline; anything else fails the test at once.
    const send = (value: string) =>
      waitFor(`an acked write of "${value}"`, async () =>
        producer.send({ topic, messages: [{ key: value, value }] }).then(
          () => true,
          (err: { retriable?: boolean }) => {
            if (err.retriable) return undefined;
            throw err;
          },
        ), { timeoutMs: 30_000 });
    await send("before");

    await cluster.servers[2]!.stop();
    await send("after");
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: randomName("g"), fromBeginning: true });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    try {
      await waitFor("both records", async () => (seen.length >= 2 ? true : undefined), { timeoutMs: 45_000 });
    } finally {
      await consumer.disconnect();
      await admin.disconnect();
    }
    expect(seen.sort()).toEqual(["after", "before"]);
  }, 90_000);
});
