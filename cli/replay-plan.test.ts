import { describe, expect, it } from "vitest";
import { planReplay, type PartitionFacts, type PlanInput } from "./replay-plan.js";

const facts = (partition: number, committed: number, low: number, high: number, more: Partial<PartitionFacts> = {}): PartitionFacts => ({ partition, committed, metadata: null, low, high, ...more });
const input = (partitions: PartitionFacts[], more: Partial<PlanInput> = {}): PlanInput => ({ aggregation: false, from: { kind: "earliest" }, clamp: false, allowSkip: false, partitions, ...more });

describe("planReplay for a sink", () => {
  it("moves every partition back to where --from points and counts what is read again", () => {
    const plan = planReplay(input([facts(1, 80, 0, 90), facts(0, 120, 20, 120)]));
    expect(plan.refusals).toEqual([]);
    expect(plan.partitions).toEqual([
      { partition: 0, committed: 120, position: 120, newOffset: 20, low: 20, end: 120, reRead: 100, skipped: 0, toRead: 100, change: true },
      { partition: 1, committed: 80, position: 80, newOffset: 0, low: 0, end: 90, reRead: 80, skipped: 0, toRead: 90, change: true },
    ]);
    expect(plan.totals).toEqual({ reRead: 180, skipped: 0, toRead: 190, changed: 2 });
    expect(plan.commits).toEqual([{ partition: 0, offset: 20 }, { partition: 1, offset: 0 }]);
    expect(plan.notes.join("\n")).toContain("dead-lettered again");
  });

  it("applies an offset to every partition and leaves partitions already there alone", () => {
    const plan = planReplay(input([facts(0, 50, 0, 60), facts(1, 10, 0, 10)], { from: { kind: "offset", offset: 10n } }));
    expect(plan.partitions.map((p) => [p.newOffset, p.reRead, p.change])).toEqual([[10, 40, true], [10, 0, false]]);
    expect(plan.commits).toEqual([{ partition: 0, offset: 10 }]);
  });

  it("uses the offsets Kafka found for a time", () => {
    const plan = planReplay(input([facts(0, 50, 0, 60, { offsetForTime: 30 }), facts(1, 40, 0, 40, { offsetForTime: 40 })], { from: { kind: "time", ms: 1_000 } }));
    expect(plan.partitions.map((p) => p.newOffset)).toEqual([30, 40]);
    expect(plan.totals.reRead).toBe(20);
  });

  it("refuses an offset retention already deleted, naming partition and offsets, unless --clamp", () => {
    const refused = planReplay(input([facts(0, 50, 12, 60), facts(1, 50, 0, 60)], { from: { kind: "offset", offset: 5n } }));
    expect(refused.refusals).toEqual([expect.objectContaining({ partition: 0, rule: "deleted-by-retention", reason: "partition 0: offset 5 was deleted by retention (the oldest record kept is at offset 12)" })]);
    expect(refused.commits).toEqual([]);
    const clamped = planReplay(input([facts(0, 50, 12, 60), facts(1, 50, 0, 60)], { from: { kind: "offset", offset: 5n }, clamp: true }));
    expect(clamped.refusals).toEqual([]);
    expect(clamped.commits).toEqual([{ partition: 0, offset: 12 }, { partition: 1, offset: 5 }]);
    expect(clamped.notes[0]).toContain("partition 0: offset 5 was deleted by retention; starting at the oldest kept record, 12 (--clamp)");
  });

  it("treats a time older than every kept record of a truncated partition as deleted: some of it may have been", () => {
    const plan = planReplay(input([facts(0, 50, 12, 60, { offsetForTime: 12 })], { from: { kind: "time", ms: Date.parse("2026-11-29T14:00:00Z") } }));
    expect(plan.refusals[0]).toMatchObject({ partition: 0, rule: "deleted-by-retention" });
    expect(plan.refusals[0]!.reason).toContain("2026-11-29T14:00:00.000Z");
    // Nothing deleted: the oldest record is where the replay starts, no refusal.
    expect(planReplay(input([facts(0, 50, 0, 60, { offsetForTime: 0 })], { from: { kind: "time", ms: 0 } })).refusals).toEqual([]);
  });

  it("refuses to move forward past unread records unless --allow-skip", () => {
    const refused = planReplay(input([facts(0, 10, 0, 60), facts(1, 60, 0, 60)], { from: { kind: "offset", offset: 30n } }));
    expect(refused.refusals).toEqual([expect.objectContaining({ partition: 0, rule: "skips-records", reason: expect.stringContaining("moving from 10 forward to 30 would skip 20 records (10..29)") })]);
    expect(refused.partitions[0]!.skipped).toBe(20);
    const allowed = planReplay(input([facts(0, 10, 0, 60), facts(1, 60, 0, 60)], { from: { kind: "offset", offset: 30n }, allowSkip: true }));
    expect(allowed.refusals).toEqual([]);
    expect(allowed.totals).toMatchObject({ reRead: 30, skipped: 20 });
  });

  it("counts a never-committed partition as starting at its oldest record", () => {
    const plan = planReplay(input([facts(0, -1, 5, 60)], { from: { kind: "latest" } }));
    expect(plan.partitions[0]).toMatchObject({ committed: null, position: 5, newOffset: 60, skipped: 55 });
    expect(plan.refusals[0]!.rule).toBe("skips-records");
    expect(planReplay(input([facts(0, -1, 5, 60)])).partitions[0]).toMatchObject({ newOffset: 5, change: true, reRead: 0 });
  });

  it("refuses an offset past the end", () => {
    expect(planReplay(input([facts(0, 60, 0, 60)], { from: { kind: "offset", offset: 61n } })).refusals[0]).toMatchObject({ rule: "past-end" });
  });
});

describe("planReplay for an aggregation", () => {
  const cp = (n: number) => JSON.stringify({ v: 2, n, m: 1000, x: 2000 });

  it("allows a full recompute: offset 0 everywhere, nothing deleted, every checkpoint dropped", () => {
    const plan = planReplay(input([facts(0, 40, 0, 100, { metadata: cp(90) }), facts(1, 0, 0, 5, { metadata: cp(5) }), facts(2, 0, 0, 0)], { aggregation: true }));
    expect(plan.refusals).toEqual([]);
    // Re-read counts from where the checkpoint says it read (n), as lag does.
    expect(plan.partitions.map((p) => [p.position, p.reRead, p.change])).toEqual([[90, 90, true], [5, 5, true], [0, 0, false]]);
    // Partition 1 stays at 0 but loses its checkpoint: it would suppress windows final by it.
    expect(plan.commits).toEqual([{ partition: 0, offset: 0 }, { partition: 1, offset: 0 }]);
    expect(plan.notes.join("\n")).toContain("recomputed from all its events with the same versions");
  });

  it("refuses a replay from the middle, saying why and what to do instead", () => {
    const plan = planReplay(input([facts(0, 40, 0, 100, { metadata: cp(90) }), facts(1, 50, 0, 60)], { aggregation: true, from: { kind: "offset", offset: 30n } }));
    expect(plan.refusals).toHaveLength(1);
    const r = plan.refusals[0]!;
    expect(r.rule).toBe("aggregation-not-from-start");
    expect(r.reason).toContain("partition 0 would start at offset 30, partition 1 would start at offset 30");
    expect(r.reason).toContain("too late the first time would be counted");
    expect(r.reason).toContain("partial session has other (start, end) keys");
    expect(r.hint).toContain("--from earliest");
    expect(plan.commits).toEqual([]);
  });

  it("refuses even from earliest when retention deleted the first records: the table cannot be recomputed from Kafka", () => {
    const plan = planReplay(input([facts(0, 40, 10, 100, { metadata: cp(90) })], { aggregation: true }));
    expect(plan.refusals[0]!.reason).toContain("retention deleted the first records of partition 0 (oldest kept offset 10)");
    expect(plan.refusals[0]!.hint).toContain("Recompute them in ClickHouse from a Sink's raw table");
  });

  it("has nothing to do when every partition is at 0 without a checkpoint", () => {
    const plan = planReplay(input([facts(0, 0, 0, 10)], { aggregation: true }));
    expect(plan).toMatchObject({ refusals: [], commits: [], totals: { changed: 0 } });
  });
});
