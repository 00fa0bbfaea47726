import { describe, expect, it } from "vitest";
import { planTopic, topicConfigs } from "./topic-plan.js";

const desired = { name: "t", partitions: 6, replicationFactor: 3, configs: topicConfigs({ retentionMs: 86_400_000, minInSyncReplicas: 2, compression: "none" }) };

describe("planTopic", () => {
  it("creates a missing topic", () => expect(planTopic(desired, undefined)).toEqual({ action: "create" }));
  it("does nothing when the topic matches", () => expect(planTopic(desired, { partitions: 6, configs: { ...desired.configs } })).toEqual({ action: "none" }));
  it("grows partitions", () => expect(planTopic(desired, { partitions: 3, configs: { ...desired.configs } })).toEqual({ action: "update", addPartitions: 6, configDrift: {} }));
  it("refuses to shrink, whatever else differs", () =>
    expect(planTopic(desired, { partitions: 12, configs: {} })).toEqual({ action: "refuse-shrink", have: 12, want: 6 }));
  it("names each drifted config with what it has and what it wants", () =>
    expect(planTopic(desired, { partitions: 6, configs: { ...desired.configs, "retention.ms": "1000" } })).toEqual({
      action: "update",
      configDrift: { "retention.ms": { have: "1000", want: "86400000" } },
    }));
  it("maps compression none to Kafka's uncompressed and infinite retention to -1", () =>
    expect(topicConfigs({ retentionMs: Infinity, minInSyncReplicas: 1, compression: "none" })).toEqual({ "retention.ms": "-1", "min.insync.replicas": "1", "compression.type": "uncompressed" }));
});
