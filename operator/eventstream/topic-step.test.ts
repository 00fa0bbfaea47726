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
  return {
    listTopics: async () => ["shop.views"],
    fetchTopicMetadata: async () => ({ topics: [{ name: "shop.views", partitions: Array.from({ length: partitions }, (_, i) => ({ partitionId: i })) }] }),
    describeTopicConfigs: async () => ({}),
  } as unknown as Admin;
}

describe("ensuring a stream's topics", () => {
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
});
