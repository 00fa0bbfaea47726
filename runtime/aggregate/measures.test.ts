import { describe, expect, it } from "vitest";
import { newAccumulator, type Value } from "./measures.js";
import type { MeasureFn } from "./compile.js";

function fold(fn: MeasureFn, values: Value[]) {
  const a = newAccumulator(fn);
  for (const v of values) a.add(v);
  return a;
}

describe("measures", () => {
  it.each([
    ["count", [1, null, 3], 3],
    ["sum", [1, null, 3, "40"], 44],
    ["avg", [1, null, 3], 2],
    ["min", [5, null, 3, 9], 3],
    ["max", [5, null, 3, 9], 9],
    ["min", ["b", "a", null], "a"],
    ["uniqExact", ["a", "b", "a", null, 1, "1"], 4],
    ["uniq", ["a", "b", "a", null], 2],
  ] as const)("%s over %j is %j", (fn, values, expected) => {
    expect(fold(fn, [...values]).result()).toEqual(expected);
  });

  it("skips null values, and has no average, minimum or maximum when every value is null", () => {
    expect(fold("avg", [null, null]).result()).toBeNull();
    expect(fold("min", [null]).result()).toBeNull();
    expect(fold("max", []).result()).toBeNull();
    expect(fold("sum", [null]).result()).toBe(0);
    expect(fold("count", [null]).result()).toBe(1);
  });

  it.each(["count", "sum", "avg", "min", "max", "uniqExact", "uniq"] as const)("%s merged from two halves equals %s over the whole", (fn) => {
    const values: Value[] = [4, 8, null, 15, 16, 23, 42, 8];
    const a = fold(fn, values.slice(0, 3));
    a.merge(fold(fn, values.slice(3)));
    expect(a.result()).toEqual(fold(fn, values).result());
  });
});
