import { describe, expect, it } from "vitest";
import { heapMiB, memoryBytes } from "./memory-quantity.js";

describe("memory limits for worker pods", () => {
  it("reads the quantities a memory limit takes", () => {
    expect(memoryBytes("512Mi")).toBe(512 * 2 ** 20);
    expect(memoryBytes("1.5Gi")).toBe(1.5 * 2 ** 30);
    expect(memoryBytes("1G")).toBe(1e9);
    expect(memoryBytes("268435456")).toBe(268435456);
    expect(memoryBytes("lots")).toBeUndefined();
  });

  it("gives V8 40% of the limit as heap, at least 64 MiB", () => {
    expect(heapMiB(512 * 2 ** 20)).toBe(204);
    expect(heapMiB(2 * 2 ** 30)).toBe(819);
    expect(heapMiB(64 * 2 ** 20)).toBe(64);
  });
});
