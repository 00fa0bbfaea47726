import { describe, expect, it } from "vitest";
import { StatusDraft } from "./status.js";

const now = new Date("2026-11-23T10:00:00Z");

describe("a status draft", () => {
  it("is unchanged when the reconcile set what was already there", () => {
    const first = new StatusDraft<{ topic?: string; observedGeneration?: number }>({}, 1, now);
    first.condition({ type: "TopicReady", status: "True", reason: "TopicInSync", message: "ok" }).finish(["TopicReady"]);
    first.next.topic = "t";
    const again = new StatusDraft(first.next, 1, new Date("2026-11-23T11:00:00Z"));
    again.condition({ type: "TopicReady", status: "True", reason: "TopicInSync", message: "ok" }).finish(["TopicReady"]);
    again.next.topic = "t";
    expect(again.changed).toBe(false);
    expect(first.next.observedGeneration).toBe(1);
  });

  it("does not mark the generation observed when a dependency failed", () => {
    const d = new StatusDraft<{ observedGeneration?: number }>({ observedGeneration: 1 }, 2, now);
    d.condition({ type: "TopicReady", status: "False", reason: "KafkaUnavailable", message: "down" }).finish(["TopicReady"]);
    expect(d.next.observedGeneration).toBe(1);
    expect(d.transitioned("TopicReady")).toBe(true);
  });

  it("sends removed fields as null in its merge patch", () => {
    const d = new StatusDraft<{ lagSeconds?: number; lagMessages?: number }>({ lagSeconds: 3, lagMessages: 10 }, 1, now);
    delete d.next.lagSeconds;
    expect(d.patch()).toEqual({ lagSeconds: null, lagMessages: 10 });
  });
});
