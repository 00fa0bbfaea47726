import { describe, expect, it } from "vitest";
import { needsReconcile, seenOf, streamFingerprint } from "./triggers.js";

const obj = (generation: number, status: Record<string, unknown> = {}, deleting = false) => ({
  metadata: { name: "a", namespace: "n", generation, ...(deleting ? { deletionTimestamp: new Date("2026-11-23T00:00:00Z") } : {}) },
  status,
});

describe("reconcile triggers", () => {
  it("reconciles an object seen for the first time", () => {
    expect(needsReconcile(undefined, seenOf(obj(1)))).toBe(true);
  });
  it("does not reconcile after a status-only update", () => {
    expect(needsReconcile(seenOf(obj(2)), seenOf(obj(2, { observedGeneration: 2 })))).toBe(false);
  });
  it("reconciles when the generation changes or a deletion starts", () => {
    expect(needsReconcile(seenOf(obj(2)), seenOf(obj(3)))).toBe(true);
    expect(needsReconcile(seenOf(obj(2)), seenOf(obj(2, {}, true)))).toBe(true);
  });
  it("re-queues a stream's sinks when its running schema version changes", () => {
    expect(streamFingerprint(obj(2, { schemaVersion: 1 }))).not.toBe(streamFingerprint(obj(2, { schemaVersion: 2 })));
  });
});
