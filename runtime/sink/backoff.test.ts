import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.js";

const opts = { initialMs: 100, maxMs: 1000 };

describe("backoffDelay", () => {
  it("doubles from the initial delay", () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, opts, 1))).toEqual([100, 200, 400, 800]);
  });
  it("is capped at maxMs", () => {
    expect(backoffDelay(30, opts, 1)).toBe(1000);
  });
  it("jitters between half and the full delay", () => {
    expect(backoffDelay(3, opts, 0)).toBe(200);
    expect(backoffDelay(3, opts, 0.5)).toBe(300);
  });
});
