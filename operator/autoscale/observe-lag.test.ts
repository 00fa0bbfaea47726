import { describe, expect, it } from "vitest";
import type { KafkaAdmin as Admin } from "../../runtime/kafka/port.js";
import { observeLag } from "./observe-lag.js";

/** An admin that knows topic "t" with the given watermarks and the group's commits on it. */
function fakeAdmin(ends: { partition: number; high: string; low: string }[], commits: { partition: number; offset: string }[] = []): Admin {
  return {
    listTopics: async () => ["t"],
    fetchTopicOffsets: async () => ends.map((e) => ({ ...e, offset: e.high })),
    fetchOffsets: async () => [{ topic: "t", partitions: commits.map((c) => ({ ...c, metadata: null })) }],
    describeGroup: async () => ({ state: "Stable", members: 1 }),
  } as unknown as Admin;
}

describe("observing a group's lag", () => {
  it("counts each partition from its commit, or from its oldest offset when never committed", async () => {
    const admin = fakeAdmin([{ partition: 1, high: "50", low: "10" }, { partition: 0, high: "100", low: "0" }], [{ partition: 0, offset: "70" }]);
    expect(await observeLag(admin, "g", "t", 1_000)).toEqual({ atMs: 1_000, end: 150, position: 80, partitionLag: [30, 40], group: { state: "Stable", members: 1 } });
  });

  it("gives no observation for a topic whose partitions are not known yet, rather than an end offset of 0", async () => {
    await expect(observeLag(fakeAdmin([]), "g", "t", 1_000)).rejects.toThrow(/topic t has no partition offsets yet \(just created\)/);
  });
});
