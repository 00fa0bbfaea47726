import { describe, expect, it } from "vitest";
import { checkpointCommits, checkpointFromCommits } from "./checkpoint-metadata.js";

describe("checkpoint in commit metadata", () => {
  const cp = {
    partitions: {
      "0": { commitOffset: 3, nextOffset: 10, maxEventTimeMs: 15_000, finalMaxEventTimeMs: 19_000 },
      "1": { commitOffset: 7, nextOffset: 7, maxEventTimeMs: null, finalMaxEventTimeMs: null },
    },
  };

  it("round-trips through per-partition commits", () => {
    const commits = checkpointCommits(cp);
    expect(commits.map((c) => [c.partition, c.offset])).toEqual([[0, 3], [1, 7]]);
    expect(checkpointFromCommits(commits)).toEqual(cp);
  });
  it("keeps each partition's own state when partitions were committed by different owners", () => {
    const a = checkpointCommits(cp)[0]!;
    const b = checkpointCommits({ partitions: { "1": { commitOffset: 9, nextOffset: 12, maxEventTimeMs: 2_000, finalMaxEventTimeMs: 3_000 } } })[0]!;
    expect(checkpointFromCommits([a, b])).toEqual({ partitions: { "0": cp.partitions["0"], "1": { commitOffset: 9, nextOffset: 12, maxEventTimeMs: 2_000, finalMaxEventTimeMs: 3_000 } } });
  });
  it("resumes a partition committed without metadata, or with a version-1 checkpoint, from its offset with no event-time state", () => {
    const none = { commitOffset: 4, nextOffset: 4, maxEventTimeMs: null, finalMaxEventTimeMs: null };
    expect(checkpointFromCommits([{ partition: 0, offset: 4, metadata: "" }])).toEqual({ partitions: { "0": none } });
    expect(checkpointFromCommits([{ partition: 0, offset: 4, metadata: '{"v":1,"w":5,"n":9,"m":20}' }])).toEqual({ partitions: { "0": none } });
  });
  it("has nothing to resume for a group that never committed", () => {
    expect(checkpointFromCommits([{ partition: 0, offset: -1, metadata: null }])).toBeUndefined();
  });
});
