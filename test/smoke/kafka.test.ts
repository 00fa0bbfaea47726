import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomName, testbedEnv } from "../support/testbed-env.js";
import { waitFor } from "../../testbed/poll.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { createTopicsAndWait } from "../../runtime/kafka/ensure-topic.js";
import type { KafkaAdmin } from "../../runtime/kafka/port.js";

describe("the testbed's Kafka broker", () => {
  const { kafkaBrokers } = testbedEnv();
  const kafka = kafkaClient(kafkaBrokers, "smoke");
  const topic = randomName("smoke");
  let admin: KafkaAdmin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await createTopicsAndWait(admin, [{ topic, numPartitions: 2 }]);
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it("produces and consumes records on a new topic", async () => {
    const producer = kafka.producer();
    await producer.connect();
    const sent = ["a", "b", "c"].map((v, i) => ({ key: `k${i}`, value: v }));
    await producer.send({ topic, messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: randomName("smoke-group"), fromBeginning: true });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    try {
      await waitFor("3 records consumed", async () => (seen.length >= 3 ? true : undefined), { timeoutMs: 30_000 });
    } finally {
      await consumer.disconnect();
    }
    expect(seen.sort()).toEqual(["a", "b", "c"]);
  });

  it("serves metadata to a non-JavaScript client (kcat, librdkafka)", () => {
    const out = execFileSync("kcat", ["-L", "-b", kafkaBrokers.join(","), "-t", topic], { encoding: "utf8" });
    expect(out).toContain(`topic "${topic}" with 2 partitions`);
  });
});
