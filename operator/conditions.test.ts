import { describe, expect, it } from "vitest";
import { readyFrom, setCondition } from "./conditions.js";

const t1 = new Date("2026-11-23T10:00:00.000Z");
const t2 = new Date("2026-11-23T11:00:00.000Z");

describe("conditions", () => {
  it("adds a condition with the generation and the time it was set", () => {
    const list = setCondition([], { type: "TopicReady", status: "True", reason: "TopicInSync", message: "ok" }, 3, t1);
    expect(list).toEqual([{ type: "TopicReady", status: "True", observedGeneration: 3, lastTransitionTime: "2026-11-23T10:00:00Z", reason: "TopicInSync", message: "ok" }]);
  });

  it("keeps lastTransitionTime when the status does not change, so nothing is rewritten", () => {
    const a = setCondition([], { type: "TopicReady", status: "True", reason: "TopicInSync", message: "ok" }, 1, t1);
    const b = setCondition(a, { type: "TopicReady", status: "True", reason: "TopicInSync", message: "ok" }, 1, t2);
    expect(b).toEqual(a);
  });

  it("moves lastTransitionTime when the status flips, and does not modify its input", () => {
    const a = setCondition([], { type: "TopicReady", status: "True", reason: "TopicInSync", message: "ok" }, 1, t1);
    const b = setCondition(a, { type: "TopicReady", status: "False", reason: "KafkaUnavailable", message: "down" }, 2, t2);
    expect(b[0]!.lastTransitionTime).toBe("2026-11-23T11:00:00Z");
    expect(a[0]!.status).toBe("True");
  });

  it("is never Ready when a dependency failed, and names the failing one", () => {
    let list = setCondition([], { type: "SchemaCompatible", status: "True", reason: "Compatible", message: "v1" }, 1, t1);
    list = setCondition(list, { type: "TopicReady", status: "False", reason: "PartitionShrinkRefused", message: "12 > 6" }, 1, t1);
    expect(readyFrom(list, ["SchemaCompatible", "TopicReady"])).toMatchObject({ status: "False", reason: "PartitionShrinkRefused" });
    expect(readyFrom(list, ["SchemaCompatible"])).toMatchObject({ status: "True" });
    expect(readyFrom(list, ["WorkloadReady"])).toMatchObject({ status: "Unknown" });
  });
});
