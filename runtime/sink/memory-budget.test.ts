import { describe, expect, it } from "vitest";
import { defaultMemoryBudget } from "./memory-budget.js";

describe("the sink's default memory budget", () => {
  it("is a twelfth of the pod's memory limit, within 16-256 MiB", () => {
    expect(defaultMemoryBudget({ SLUICE_MEMORY_LIMIT_BYTES: String(512 * 2 ** 20) })).toBe(Math.floor((512 * 2 ** 20) / 12));
    expect(defaultMemoryBudget({ SLUICE_MEMORY_LIMIT_BYTES: String(64 * 2 ** 20) })).toBe(16 * 2 ** 20);
    expect(defaultMemoryBudget({ SLUICE_MEMORY_LIMIT_BYTES: String(64 * 2 ** 30) })).toBe(256 * 2 ** 20);
    expect(defaultMemoryBudget({})).toBeGreaterThanOrEqual(16 * 2 ** 20);
  });
});
