import { describe, expect, it } from "vitest";
import { rateIn } from "./latency.js";

describe("rateIn", () => {
  it("counts per second only the times inside [from, to)", () => {
    expect(rateIn([999, 1000, 1500, 1999, 2000], 1000, 2000)).toBe(3);
  });
  it("weights each time by its count (accepted requests carry many events)", () => {
    expect(rateIn([500, 1000, 3000], 0, 2000, (i) => [100, 50, 7][i]!)).toBe(75);
  });
  it("is 0 over an empty window", () => {
    expect(rateIn([1], 5, 5)).toBe(0);
  });
});
