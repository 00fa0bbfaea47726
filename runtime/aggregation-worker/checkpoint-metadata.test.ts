import { describe, expect, it } from "vitest";
import { checkpointCommits, checkpointFromCommits } from "./checkpoint-metadata.js";

describe("checkpoint in commit metadata", () => {
  const cp = { watermarkMs: 5_000, partitions: { "0": { commitOffset: 3, nextOffset: 10, maxEventTimeMs: 15_000 }, "1": { commitOffset: 7, nextOffset: 7, maxEventTimeMs: null } } };

  it("round-trips through per-partition commits", () => {
    const commits = checkpointCommits(cp);
    expect(commits.map((c) => [c.partition, c.offset])).toEqual([[0, 3], [1, 7]]);
    // Each partition also carries the watermark its events were judged by.
    const judged = { ...cp, partitions: { "0": { ...cp.partitions["0"], watermarkMs: 5_000 }, "1": { ...cp.partitions["1"], watermarkMs: 5_000 } } };
    expect(checkpointFromCommits(commits)).toEqual(judged);
    expect(checkpointFromCommits(checkpointCommits(judged))).toEqual(judged);
  });
  it("takes the lowest watermark when partitions were committed at different times, and keeps each one's own", () => {
    const a = checkpointCommits(cp)[0]!;
    const b = checkpointCommits({ ...cp, watermarkMs: 2_000 })[1]!;
    const resumed = checkpointFromCommits([a, b])!;
    expect(resumed.watermarkMs).toBe(2_000);
    expect([resumed.partitions["0"]!.watermarkMs, resumed.partitions["1"]!.watermarkMs]).toEqual([5_000, 2_000]);
  });
  it("resumes a partition committed without metadata from its offset, with no watermark", () => {
    expect(checkpointFromCommits([{ partition: 0, offset: 4, metadata: "" }])).toEqual({ watermarkMs: null, partitions: { "0": { commitOffset: 4, nextOffset: 4, maxEventTimeMs: null } } });
  });
  it("carries the final watermark of a session checkpoint, the lowest when partitions disagree", () => {
    const sessions = { ...cp, finalWatermarkMs: 9_000 };
    expect(checkpointFromCommits(checkpointCommits(sessions))).toEqual(sessions);
    const a = checkpointCommits(sessions)[0]!;
    const b = checkpointCommits({ ...sessions, finalWatermarkMs: 8_000 })[1]!;
    expect(checkpointFromCommits([a, b])!.finalWatermarkMs).toBe(8_000);
  });
  it("has nothing to resume for a group that never committed", () => {
    expect(checkpointFromCommits([{ partition: 0, offset: -1, metadata: null }])).toBeUndefined();
  });
});
