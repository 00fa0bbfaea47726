import { describe, expect, it } from "vitest";
import { decodeIntent, dedupToken, encodeIntent, groupInsertQueryId, groupInsertsFilter, newGroupId, replayInsertQueryId, replayToken } from "./offset-intent.js";

describe("offset intents", () => {
  it("round-trips the end of an in-flight batch", () => {
    expect(decodeIntent(encodeIntent(120), 100)).toEqual({ end: 120 });
  });
  it("round-trips the group of a batch written in a combined insert", () => {
    const group = newGroupId();
    expect(encodeIntent(120, group)).toBe(`sluice-intent:v2:120:${group}`);
    expect(decodeIntent(encodeIntent(120, group), 100)).toEqual({ end: 120, group });
  });
  it("ignores an intent that is not ahead of the committed offset (already written)", () => {
    expect(decodeIntent(encodeIntent(100), 100)).toBeUndefined();
    expect(decodeIntent(encodeIntent(100, newGroupId()), 100)).toBeUndefined();
  });
  it("ignores empty, foreign and malformed metadata", () => {
    expect(decodeIntent("", 0)).toBeUndefined();
    expect(decodeIntent(null, 0)).toBeUndefined();
    expect(decodeIntent("someone else's", 0)).toBeUndefined();
    expect(decodeIntent("sluice-intent:v2:120", 0)).toBeUndefined();
    expect(decodeIntent("sluice-intent:v2:120:x'; DROP", 0)).toBeUndefined();
  });
  it("names a batch by topic, partition and offset range", () => {
    expect(dedupToken("t", 3, 100, 120)).toBe("sluice:t:3:100-120");
  });
  it("gives a replay a token of exactly the rows it inserts", () => {
    expect(replayToken("t", 3, 100, 120, [101, 102])).toBe(replayToken("t", 3, 100, 120, [101, 102]));
    expect(replayToken("t", 3, 100, 120, [101, 102])).not.toBe(replayToken("t", 3, 100, 120, [102]));
    expect(replayToken("t", 3, 100, 120, [101])).toMatch(/^sluice:t:3:100-120:rows:[0-9a-f]{32}$/);
  });
  it("finds a group's insert and earlier replays of one partition by query id, not other partitions' replays", () => {
    const group = newGroupId();
    const like = (id: string, pattern: string) => new RegExp(`^${pattern.replace(/%/g, ".*")}$`).test(id);
    const matches = (id: string) => [...groupInsertsFilter(group, 3).matchAll(/LIKE '([^']+)'/g)].some((m) => like(id, m[1]!));
    expect(matches(groupInsertQueryId(group))).toBe(true);
    expect(matches(replayInsertQueryId(group, 3))).toBe(true);
    expect(matches(replayInsertQueryId(group, 31))).toBe(false);
    expect(matches(replayInsertQueryId(group, 4))).toBe(false);
    expect(matches(groupInsertQueryId(newGroupId()))).toBe(false);
  });
});
