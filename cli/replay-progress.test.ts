import { describe, expect, it } from "vitest";
import type { PartitionPlan } from "./replay-plan.js";
import { etaFrom, replayProgress } from "./replay-progress.js";

const part = (partition: number, newOffset: number, end: number): PartitionPlan => ({ partition, committed: end, position: end, newOffset, low: 0, end, reRead: end - newOffset, skipped: 0, toRead: end - newOffset, change: true });

describe("replayProgress", () => {
  it("counts each replayed partition from its new offset up to the end taken at the reset", () => {
    const parts = [part(0, 10, 60), part(1, 0, 40)];
    expect(replayProgress(parts, new Map())).toEqual({ done: 0, total: 90, complete: false });
    // Records produced after the reset (position past the end) are not the replay's.
    expect(replayProgress(parts, new Map([[0, 35], [1, 100]]))).toEqual({ done: 65, total: 90, complete: false });
    expect(replayProgress(parts, new Map([[0, 60], [1, 40]]))).toEqual({ done: 90, total: 90, complete: true });
  });

  it("is complete at once when nothing is to be read", () => {
    expect(replayProgress([part(0, 5, 5)], new Map())).toEqual({ done: 0, total: 0, complete: true });
  });
});

describe("etaFrom", () => {
  it("measures the rate from the first movement, not from the wait for workers", () => {
    let t = 0;
    const eta = etaFrom(() => t);
    expect(eta({ done: 0, total: 1000, complete: false })).toBe("?");
    t = 60_000; // a minute waiting for workers
    expect(eta({ done: 100, total: 1000, complete: false })).toBe("?");
    t = 70_000; // then 100 records in 10 s
    expect(eta({ done: 200, total: 1000, complete: false })).toBe("1m20s");
    expect(eta({ done: 1000, total: 1000, complete: true })).toBe("0s");
  });
});
