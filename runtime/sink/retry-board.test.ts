import { describe, expect, it } from "vitest";
import { RetryBoard } from "./retry-board.js";

describe("RetryBoard", () => {
  let t = Date.parse("2026-11-29T14:00:00Z");
  const board = () => new RetryBoard(() => t, 60_000);

  it("shows a step from its first retry until it settles, then under recent for a while", () => {
    const b = board();
    expect(b.report()).toEqual({ retrying: [], recent: [] });
    b.retrying("commit p3 120", "kafka", "commit", 1, new Error("This is not the correct coordinator for this group"));
    t += 1_000;
    b.retrying("commit p3 120", "kafka", "commit", 2, new Error("The coordinator is loading"));
    expect(b.report().retrying).toEqual([
      { system: "kafka", step: "commit", operations: 1, since: "2026-11-29T14:00:00.000Z", attempts: 2, error: "The coordinator is loading", example: "commit p3 120" },
    ]);
    t += 1_000;
    b.settled("commit p3 120");
    const r = b.report();
    expect(r.retrying).toEqual([]);
    expect(r.recent).toMatchObject([{ step: "commit", attempts: 2, since: "2026-11-29T14:00:00.000Z", endedAt: "2026-11-29T14:00:02.000Z" }]);
    t += 61_000;
    expect(b.report().recent).toEqual([]);
  });

  it("folds the same step on several partitions into one line: earliest start, most attempts, newest error", () => {
    const b = board();
    b.retrying("commit p1 5", "kafka", "commit", 1, new Error("a"));
    t += 500;
    b.retrying("commit p2 9", "kafka", "commit", 3, new Error("b"));
    b.retrying("insert p2 0-9", "clickhouse", "insert", 1, new Error("c"));
    const { retrying } = b.report();
    expect(retrying).toHaveLength(2);
    expect(retrying[0]).toMatchObject({ step: "commit", operations: 2, attempts: 3, example: "commit p1 5" });
    expect(retrying[1]).toMatchObject({ system: "clickhouse", step: "insert", operations: 1 });
    b.settled("commit p1 5");
    expect(b.report().retrying[0]).toMatchObject({ step: "commit", operations: 1, example: "commit p2 9" });
  });

  it("ignores a settle for an operation that never retried, and bounds error text", () => {
    const b = board();
    b.settled("never");
    b.retrying("x", "kafka", "commit", 1, new Error("e".repeat(1_000)));
    expect(b.report().retrying[0]!.error.length).toBeLessThanOrEqual(301);
    expect(b.report().recent).toEqual([]);
  });
});

describe("RetryBoard, a step with no answer", () => {
  it("shows 0 attempts and 'no answer' since the attempt began, until it fails (then retrying) or ends", () => {
    let t = Date.parse("2026-11-29T15:00:10Z");
    const b = new RetryBoard(() => t);
    b.waiting("commit p0 5", "kafka", "commit", 10_000);
    expect(b.report().retrying).toMatchObject([{ step: "commit", attempts: 0, since: "2026-11-29T15:00:00.000Z", error: "no answer after 10 s" }]);
    t += 5_000;
    b.retrying("commit p0 5", "kafka", "commit", 1, new Error("Local: Timed out"));
    expect(b.report().retrying).toMatchObject([{ attempts: 1, since: "2026-11-29T15:00:00.000Z", error: "Local: Timed out" }]);
    expect(b.settled("commit p0 5")).toBe(true);
    b.waiting("commit p0 9", "kafka", "commit", 10_000);
    expect(b.settled("commit p0 9")).toBe(false);
  });
});
