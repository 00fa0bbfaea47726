import { describe, expect, it, vi } from "vitest";

// What kafkajs 2.2.4's admin.fetchTopicOffsets does when its metadata lists no partition
// of the topic: it destructures the first entry of an empty answer.
vi.mock("kafkajs", () => {
  const admin = {
    fetchTopicOffsets: async () => {
      const high: { partitions: unknown[] }[] = [];
      const { partitions } = high.pop()!;
      return partitions;
    },
  };
  return { default: { Kafka: class { admin = () => admin; }, logLevel: { NOTHING: 0 }, ConfigResourceTypes: { TOPIC: 2 } } };
});

const { kafkajsAdmin } = await import("./admin.js");

describe("the kafkajs admin adapter", () => {
  it("names a topic whose partitions the client does not know yet, instead of passing on kafkajs's TypeError", async () => {
    const err = await kafkajsAdmin(["127.0.0.1:1"], "test").fetchTopicOffsets("fresh").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe("no offsets for topic fresh yet: the Kafka client knows none of its partitions (a topic just created)");
  });
});
