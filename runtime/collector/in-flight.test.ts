import { describe, expect, it } from "vitest";
import { ByteBudget } from "./in-flight.js";

describe("ByteBudget", () => {
  it("admits bytes up to its limit and refuses beyond until some are released", () => {
    const seen: number[] = [];
    const budget = new ByteBudget(100, (used) => seen.push(used));
    expect(budget.tryAcquire(60)).toBe(true);
    expect(budget.tryAcquire(40)).toBe(true);
    expect(budget.tryAcquire(1)).toBe(false);
    budget.release(60);
    expect(budget.tryAcquire(50)).toBe(true);
    expect(seen).toEqual([60, 100, 40, 90]);
  });

  it("admits one batch larger than the whole budget when nothing else is in flight", () => {
    const budget = new ByteBudget(100);
    expect(budget.tryAcquire(500)).toBe(true);
    expect(budget.tryAcquire(1)).toBe(false);
    budget.release(500);
    expect(budget.inFlight).toBe(0);
  });
});
