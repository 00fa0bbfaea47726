import { describe, expect, it } from "vitest";
import { decodeIntent, dedupToken, encodeIntent } from "./offset-intent.js";

describe("offset intents", () => {
  it("round-trips the end of an in-flight batch", () => {
    expect(decodeIntent(encodeIntent(120), 100)).toBe(120);
  });
  it("ignores an intent that is not ahead of the committed offset (already written)", () => {
    expect(decodeIntent(encodeIntent(100), 100)).toBeUndefined();
  });
  it("ignores empty and foreign metadata", () => {
    expect(decodeIntent("", 0)).toBeUndefined();
    expect(decodeIntent(null, 0)).toBeUndefined();
    expect(decodeIntent("someone else's", 0)).toBeUndefined();
  });
  it("names a batch by topic, partition and offset range", () => {
    expect(dedupToken("t", 3, 100, 120)).toBe("sluice:t:3:100-120");
  });
});
