import { describe, expect, it } from "vitest";
import { HLL_STANDARD_ERROR, HyperLogLog } from "./hyperloglog.js";

function sketchOf(values: Iterable<string>): HyperLogLog {
  const h = new HyperLogLog();
  for (const v of values) h.add(v);
  return h;
}

function* range(from: number, to: number, prefix = "user-"): Generator<string> {
  for (let i = from; i < to; i++) yield `${prefix}${i}`;
}

describe("HyperLogLog", () => {
  it("has a standard error of about 1.6% with 4096 registers", () => {
    expect(HLL_STANDARD_ERROR).toBeCloseTo(0.01625, 5);
  });

  it("estimates 100,000 distinct values within three standard errors", () => {
    const estimate = sketchOf(range(0, 100_000)).estimate();
    expect(Math.abs(estimate - 100_000) / 100_000).toBeLessThan(3 * HLL_STANDARD_ERROR);
  });

  it("stays within three standard errors across cardinalities and value shapes", () => {
    for (const [n, prefix] of [[1_000, "u"], [10_000, "https://shop.example/p/"], [50_000, ""]] as const) {
      const estimate = sketchOf(range(0, n, prefix)).estimate();
      expect(Math.abs(estimate - n) / n, `n=${n}`).toBeLessThan(3 * HLL_STANDARD_ERROR);
    }
  });

  it("counts tiny sets exactly and small sets within one", () => {
    for (const n of [0, 1, 2, 5]) expect(sketchOf(range(0, n)).estimate()).toBe(n);
    // Two of 50 values share a register with probability ≈ 26%: then the estimate is 49.
    for (const n of [10, 50, 100]) expect(Math.abs(sketchOf(range(0, n)).estimate() - n), `n=${n}`).toBeLessThanOrEqual(1);
  });

  it("ignores repeats", () => {
    const h = sketchOf(range(0, 500));
    const before = h.estimate();
    for (const v of range(0, 500)) h.add(v);
    expect(h.estimate()).toBe(before);
  });

  it("merges to exactly the sketch of the union", () => {
    const a = sketchOf(range(0, 30_000));
    a.merge(sketchOf(range(20_000, 60_000)));
    expect(a.estimate()).toBe(sketchOf(range(0, 60_000)).estimate());
  });
});
