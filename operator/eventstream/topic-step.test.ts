import { describe, expect, it } from "vitest";
import type { KafkaAdmin as Admin } from "../../runtime/kafka/port.js";
import { compileStream } from "../../runtime/pipeline/compile.js";
import { validateDocument } from "../../api/validate.js";
import type { EventStreamSpec } from "../../api/eventstream.js";
import { ensureTopics } from "./topic-step.js";

const verdict = validateDocument({
  apiVersion: "sluice.dev/v1alpha1", kind: "EventStream", metadata: { name: "views" },
  spec: { topic: { partitions: 4 }, schema: { version: 1, fields: [{ name: "id", type: "string" }, { name: "at", type: "timestamp" }] }, keys: { eventId: "id", eventTime: "at" } },
});
const stream = compileStream({ kind: "EventStream", metadata: { name: "views", namespace: "shop" }, spec: (verdict as { value: { spec: EventStreamSpec } }).value.spec });

/** An admin that knows one topic with `partitions` partitions and the declared configs. */
function fakeAdmin(partitions: number): Admin {
  return topicsAdmin({ "shop.views": partitions });
}

/** An admin that knows these topics with these partition counts; config changes go through. */
function topicsAdmin(topics: Record<string, number>): Admin {
  return {
    listTopics: async () => Object.keys(topics),
    fetchTopicMetadata: async ({ topics: [name] }: { topics: string[] }) => ({
      topics: [{ name, partitions: Array.from({ length: topics[name!]! }, (_, i) => ({ partitionId: i, leader: 0 })) }],
    }),
    describeTopicConfigs: async () => ({}),
    alterTopicConfigs: async () => {},
  } as unknown as Admin;
}

/** An admin for a cluster of `brokers` brokers without the stream's topics, whose createTopics does `create`. */
function emptyCluster(brokers: number, create: () => Promise<boolean> = async () => true) {
  const created: unknown[] = [];
  const admin = {
    listTopics: async () => [],
    describeCluster: async () => ({ brokers: Array.from({ length: brokers }, (_, i) => ({ nodeId: i, host: "b", port: 9092 })), controller: 0, clusterId: "c" }),
    createTopics: async (o: unknown) => {
      created.push(o);
      return create();
    },
    fetchTopicMetadata: async () => ({ topics: [{ name: "any", partitions: [0, 1, 2, 3].map((partitionId) => ({ partitionId, leader: 0 })) }] }),
  } as unknown as Admin;
  return { admin, created };
}

describe("ensuring a stream's topics", () => {
  it("when the spec asks for more replicas than the cluster has brokers, says so without a retry and creates nothing", async () => {
    const { admin, created } = emptyCluster(1);
    const out = await ensureTopics({ withKafkaAdmin: async (fn) => fn(admin) }, stream);
    expect(out.retry).toBe(false);
    expect(out.condition).toEqual({
      type: "TopicReady",
      status: "False",
      reason: "ReplicationFactorTooHigh",
      message: "topic shop.views asks for replicationFactor 3, but the Kafka cluster has 1 broker: lower spec.topic.replicationFactor or add brokers",
    });
    expect(created).toEqual([]);
    expect(out.partitions, "no topic, so no count").toBeUndefined();
  });

  it("when Kafka refuses the topic as invalid, reports TopicRefused without a retry", async () => {
    // kafkajs's shape: an aggregate of per-topic protocol errors.
    const invalidConfig = Object.assign(new Error("Topic creation errors"), { errors: [Object.assign(new Error("Configuration is invalid"), { type: "INVALID_CONFIG", code: 40 })] });
    const { admin } = emptyCluster(3, () => Promise.reject(invalidConfig));
    const out = await ensureTopics({ withKafkaAdmin: async (fn) => fn(admin) }, stream);
    expect(out.retry).toBe(false);
    expect(out.condition).toMatchObject({ status: "False", reason: "TopicRefused", message: "Kafka refused topic shop.views: INVALID_CONFIG (Configuration is invalid)" });
  });

  it("when Kafka fails for a passing reason, reports KafkaUnavailable and asks for a retry", async () => {
    const timedOut = Object.assign(new Error("Request timed out"), { type: "REQUEST_TIMED_OUT", code: 7 });
    const { admin } = emptyCluster(3, () => Promise.reject(timedOut));
    const out = await ensureTopics({ withKafkaAdmin: async (fn) => fn(admin) }, stream);
    expect(out.retry).toBe(true);
    expect(out.condition).toMatchObject({ reason: "KafkaUnavailable" });
  });

  it("when Kafka is unreachable, reports KafkaUnavailable and asks for a retry", async () => {
    const out = await ensureTopics({ withKafkaAdmin: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:1")) }, stream);
    expect(out.retry).toBe(true);
    expect(out.condition).toMatchObject({ type: "TopicReady", status: "False", reason: "KafkaUnavailable" });
    expect(out.condition.message).toContain("ECONNREFUSED");
  });

  it("when the topic is larger than declared, refuses without a retry and reports the partitions it has", async () => {
    const out = await ensureTopics({ withKafkaAdmin: async (fn) => fn(fakeAdmin(8)) }, stream);
    expect(out.retry).toBe(false);
    expect(out.partitions).toBe(8);
    expect(out.condition).toMatchObject({ status: "False", reason: "PartitionShrinkRefused" });
  });

  it("when the topics match the spec, reports the partitions the topic has", async () => {
    const out = await ensureTopics({ withKafkaAdmin: async (fn) => fn(topicsAdmin({ "shop.views": 4, "shop.views.dlq": 3 })) }, stream);
    expect(out.condition).toMatchObject({ status: "True", reason: "TopicInSync" });
    expect(out.partitions).toBe(4);
  });

  it("when only the dead-letter topic is refused, reports the main topic's partitions, not the dead-letter topic's", async () => {
    const out = await ensureTopics({ withKafkaAdmin: async (fn) => fn(topicsAdmin({ "shop.views": 4, "shop.views.dlq": 5 })) }, stream);
    expect(out.condition).toMatchObject({ status: "False", reason: "PartitionShrinkRefused" });
    expect(out.condition.message).toContain("shop.views.dlq has 5 partitions");
    expect(out.partitions).toBe(4);
  });
});
