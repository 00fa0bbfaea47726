import { describe, expect, it } from "vitest";
import { cutBatch, type Buffered } from "./batch-plan.js";

const recs = (offsets: number[], bytes = 10): Buffered[] => offsets.map((offset) => ({ offset, bytes }));
const limits = { maxRows: 3, maxBytes: 100, maxDelayMs: 1000 };

describe("cutBatch", () => {
  it("waits while the buffer is below every limit and young", () => {
    expect(cutBatch(recs([0, 1]), limits, { now: 500, oldestAt: 0 })).toBe(0);
  });
  it("cuts at maxRows", () => {
    expect(cutBatch(recs([0, 1, 2, 3, 4]), limits, { now: 0, oldestAt: 0 })).toBe(3);
  });
  it("cuts before the record that would pass maxBytes", () => {
    expect(cutBatch(recs([0, 1, 2], 40), limits, { now: 0, oldestAt: 0 })).toBe(2);
  });
  it("sends a single record larger than maxBytes alone", () => {
    expect(cutBatch(recs([0, 1], 500), limits, { now: 0, oldestAt: 0 })).toBe(1);
  });
  it("flushes a partial batch once the oldest record waited maxDelay", () => {
    expect(cutBatch(recs([0, 1]), limits, { now: 1000, oldestAt: 0 })).toBe(2);
  });
  it("is empty for an empty buffer", () => {
    expect(cutBatch([], limits, { now: 1e9, oldestAt: 0 })).toBe(0);
  });

  describe("with a boundary from an interrupted batch", () => {
    it("ends exactly at the boundary, whatever the row limit", () => {
      expect(cutBatch(recs([10, 11, 12, 13, 14, 15]), limits, { now: 0, oldestAt: 0, boundary: 15 })).toBe(5);
    });
    it("waits until the record just below the boundary arrived, even past maxDelay", () => {
      expect(cutBatch(recs([10, 11]), limits, { now: 5000, oldestAt: 0, boundary: 15 })).toBe(0);
      expect(cutBatch(recs([10, 11, 14]), limits, { now: 5000, oldestAt: 0, boundary: 15 })).toBe(3);
    });
    it("gives up on exactness after ten times maxDelay (a missing last offset)", () => {
      expect(cutBatch(recs([10, 11]), limits, { now: 10_000, oldestAt: 0, boundary: 15 })).toBe(2);
    });
    it("cuts the same batch however the records were fetched", () => {
      const a = cutBatch(recs([10, 11, 12, 13, 14]), limits, { now: 0, oldestAt: 0, boundary: 14 });
      const b = cutBatch(recs([10, 11, 12, 13, 14, 15, 16, 17]), limits, { now: 99, oldestAt: 0, boundary: 14 });
      expect(a).toBe(4);
      expect(b).toBe(4);
    });
  });
});

describe("cutBatch when the worker's memory budget is spent", () => {
  it("cuts what is buffered at once instead of waiting for maxDelay, but still exactly at a previous owner's boundary", () => {
    const buffer = [0, 1, 2].map((offset) => ({ offset, bytes: 10 }));
    const limits = { maxRows: 100, maxBytes: 1_000, maxDelayMs: 1_000 };
    expect(cutBatch(buffer, limits, { now: 0, oldestAt: 0 })).toBe(0);
    expect(cutBatch(buffer, limits, { now: 0, oldestAt: 0, force: true })).toBe(3);
    expect(cutBatch(buffer, limits, { now: 0, oldestAt: 0, boundary: 5, force: true })).toBe(0);
  });
});
