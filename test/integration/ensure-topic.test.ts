import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { ensureTopic, observeTopic, TopicSpecError } from "../../runtime/kafka/ensure-topic.js";
import type { KafkaAdmin } from "../../runtime/kafka/port.js";
import { topicConfigs } from "../../runtime/kafka/topic-plan.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

describe("ensureTopic on a real broker", () => {
  let admin: KafkaAdmin;
  const name = randomName("ensure");
  const desired = (partitions: number, retentionMs = 3_600_000) => ({
    name, partitions, replicationFactor: 1, configs: topicConfigs({ retentionMs, minInSyncReplicas: 1, compression: "lz4" }),
  });
  beforeAll(async () => {
    admin = kafkaClient(testbedEnv().kafkaBrokers, "ensure-topic-test").admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [name] }).catch(() => {});
    await admin.disconnect();
  });

  it("creates the topic, then finds nothing to do", async () => {
    expect(await ensureTopic(admin, desired(2))).toEqual({ action: "create" });
    expect(await observeTopic(admin, name, ["retention.ms"])).toEqual({ partitions: 2, configs: { "retention.ms": "3600000" } });
    expect(await ensureTopic(admin, desired(2))).toEqual({ action: "none" });
  });

  it("grows partitions and corrects config drift made behind its back", async () => {
    await admin.alterTopicConfigs(name, { "retention.ms": "1000" });
    const plan = await ensureTopic(admin, desired(4));
    expect(plan).toMatchObject({ action: "update", addPartitions: 4, configDrift: { "retention.ms": { have: "1000", want: "3600000" } } });
    expect(await observeTopic(admin, name, ["retention.ms", "compression.type"])).toEqual({
      partitions: 4,
      configs: { "retention.ms": "3600000", "compression.type": "lz4" },
    });
  });

  it("refuses more replicas than the cluster has brokers with a spec error naming both, creating nothing", async () => {
    const brokers = (await admin.describeCluster()).brokers.length;
    const wide = randomName("ensure-wide");
    const err = await ensureTopic(admin, { ...desired(1), name: wide, replicationFactor: brokers + 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopicSpecError);
    expect((err as TopicSpecError).reason).toBe("ReplicationFactorTooHigh");
    expect((err as Error).message).toBe(`topic ${wide} asks for replicationFactor ${brokers + 2}, but the Kafka cluster has ${brokers} broker${brokers === 1 ? "" : "s"}: lower spec.topic.replicationFactor or add brokers`);
    expect(await admin.listTopics()).not.toContain(wide);
  });

  it("refuses to shrink with a non-retriable spec error, leaving the topic as it was", async () => {
    const err = await ensureTopic(admin, desired(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopicSpecError);
    expect((err as TopicSpecError).reason).toBe("PartitionShrinkRefused");
    expect((err as Error).message).toMatch(/has 4 partitions and the spec asks for 1/);
    expect((await observeTopic(admin, name, []))?.partitions).toBe(4);
  });
});
