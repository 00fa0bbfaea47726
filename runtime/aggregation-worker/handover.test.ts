/**
 * A partition handed over between workers whose watermarks differ: the new owner judges
 * each partition's replayed and new events by that partition's own watermark, as the
 * first owner did, not by the lowest of the partitions it now owns. Seen on
 * the node (autoscaling loop, an Aggregation scaled 1 -> 4 -> 6 -> 12): events reported late
 * were counted again in reopened windows, 344,724 counted + late for 292,500 events.
 */
import { describe, expect, it } from "vitest";
import type { CompiledAggregation } from "../aggregate/compile.js";
import { AggregationEngine, type AggregationEvent, type Output } from "../aggregate/engine.js";
import { checkpointCommits, checkpointFromCommits } from "./checkpoint-metadata.js";

const config: CompiledAggregation = {
  window: { type: "tumbling", sizeMs: 100, slideMs: 100 },
  maxOutOfOrdernessMs: 10,
  idleTimeoutMs: 1_000_000,
  allowedLatenessMs: 50,
  earlyFiringsMs: undefined,
  groupBy: ["user"],
  measures: [{ name: "events", fn: "count", field: undefined }],
};
const ev = (partition: number, offset: number, t: number, user: string): AggregationEvent => ({ partition, offset, eventId: `${partition}-${offset}`, eventTimeMs: t, row: { user } });
const windowsOf = (outs: Output[]) => outs.flatMap((o) => (o.kind === "result" ? [`${o.row.windowStart}/${o.row.user}=${o.row.events}`] : []));
const lateOf = (outs: Output[]) => outs.flatMap((o) => (o.kind === "late" ? [o.event.eventId] : []));

describe("a partition handed over between owners with different watermarks", () => {
  const p0 = [ev(0, 0, 5, "u0"), ev(0, 1, 170, "u0"), ev(0, 2, 7, "u0"), ev(0, 3, 175, "u0")];

  function firstOwners() {
    // Owner A had partition 0 and moved its watermark past window [0, 100): the event at
    // t=7 was late. Owner B had partition 1, whose events are older: its watermark is low.
    const a = new AggregationEngine(config, () => 0);
    a.assign([0]);
    const aOut = p0.flatMap((e) => a.onEvent(e));
    const b = new AggregationEngine(config, () => 0);
    b.assign([1]);
    b.onEvent(ev(1, 0, 20, "u1"));
    const commits = [...checkpointCommits(a.checkpoint()), ...checkpointCommits(b.checkpoint())];
    return { aOut, resume: checkpointFromCommits(commits)! };
  }

  it("the first owner wrote window [0, 100) in full and reported one event late", () => {
    const { aOut } = firstOwners();
    expect(windowsOf(aOut)).toEqual(["0/u0=1"]);
    expect(lateOf(aOut)).toEqual(["0-2"]);
  });

  it("the next owner neither reopens that window on replay nor counts the late event, and judges new events the same way", () => {
    const { resume } = firstOwners();
    const c = new AggregationEngine(config, () => 0, resume);
    c.assign([0, 1]);
    const replayFrom = resume.partitions["0"]!.commitOffset;
    const out = p0.filter((e) => e.offset >= replayFrom).flatMap((e) => c.onEvent(e));
    const later = c.onEvent(ev(0, 4, 8, "u0")); // new, for the window written in full long ago
    expect(windowsOf([...out, ...later]).filter((w) => w.startsWith("0/"))).toEqual([]);
    expect(lateOf(out)).toEqual([]); // replayed: its lateness was reported the first time
    expect(lateOf(later)).toEqual(["0-4"]);
  });
});
