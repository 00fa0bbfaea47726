import { describe, expect, it } from "vitest";
import { waitForLeaders } from "./ensure-topic.js";

type Meta = { topics: { name: string; partitions: { partitionId: number; leader: number }[] }[] };
const protocolError = (type: string) => Object.assign(new Error(type), { type });
const partitions = (...leaders: number[]) => ({ topics: [{ name: "t", partitions: leaders.map((leader, partitionId) => ({ partitionId, leader })) }] });

/** Answers metadata requests from a script: an error to throw or metadata to return, the last one repeated. */
function scripted(...answers: (Error | Meta)[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fetchTopicMetadata: async () => {
      const a = answers[Math.min(calls++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a as never;
    },
  };
}

describe("waitForLeaders", () => {
  it("retries while the broker does not know the topic yet, or some partitions have no leader", async () => {
    const admin = scripted(protocolError("UNKNOWN_TOPIC_OR_PARTITION"), protocolError("LEADER_NOT_AVAILABLE"), partitions(1, -1, 1), partitions(1, 1, 1));
    await waitForLeaders(admin, "t", 3);
    expect(admin.calls).toBe(4);
  });

  it("passes any other error through at once", async () => {
    const admin = scripted(protocolError("TOPIC_AUTHORIZATION_FAILED"));
    await expect(waitForLeaders(admin, "t", 1)).rejects.toThrow("TOPIC_AUTHORIZATION_FAILED");
    expect(admin.calls).toBe(1);
  });

  it("gives up at the deadline, saying what it last saw", async () => {
    await expect(waitForLeaders(scripted(partitions(1, -1)), "t", 2, 300)).rejects.toThrow("topic t was created but its partitions have no leaders after 300 ms (1 of 2 partitions have a leader)");
  });
});
