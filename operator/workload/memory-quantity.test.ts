import { describe, expect, it } from "vitest";
import { heapMiB, memoryBytes, semiSpaceMiB } from "./memory-quantity.js";

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

  it("gives V8 a semi-space of a 64th of the limit, 1 to 16 MiB (Node 24's default is 64 MiB)", () => {
    expect(semiSpaceMiB(2 ** 30)).toBe(16);
    expect(semiSpaceMiB(4 * 2 ** 30)).toBe(16);
    expect(semiSpaceMiB(512 * 2 ** 20)).toBe(8);
    expect(semiSpaceMiB(256 * 2 ** 20)).toBe(4);
    expect(semiSpaceMiB(32 * 2 ** 20)).toBe(1);
  });
});
