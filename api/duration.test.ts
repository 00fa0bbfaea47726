import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.js";

describe("parseDuration", () => {
  it("reads Go-style compound durations into milliseconds", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("7d")).toBe(604_800_000);
    expect(parseDuration("infinite")).toBe(Number.POSITIVE_INFINITY);
  });
  it("refuses anything else, rather than reading a prefix", () => {
    expect(() => parseDuration("10 s")).toThrow(/not a duration/);
    expect(() => parseDuration("5mx")).toThrow(/not a duration/);
    expect(() => parseDuration("")).toThrow(/not a duration/);
  });
});
