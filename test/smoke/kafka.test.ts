import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { randomName, testbedEnv } from "../support/testbed-env.js";
import { waitFor } from "../testbed/poll.js";
import { createTopicsAndWait } from "../../runtime/kafka/ensure-topic.js";

describe("the testbed's Kafka broker", () => {
  const { kafkaBrokers } = testbedEnv();
  const kafka = new Kafka({ clientId: "smoke", brokers: kafkaBrokers, logLevel: logLevel.ERROR });
  const topic = randomName("smoke");
  let admin: Admin;

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
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const sent = ["a", "b", "c"].map((v, i) => ({ key: `k${i}`, value: v }));
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: randomName("smoke-group") });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
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
