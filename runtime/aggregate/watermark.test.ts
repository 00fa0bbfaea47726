import { describe, expect, it } from "vitest";
import { WatermarkTracker } from "./watermark.js";

const tracker = () => new WatermarkTracker(10, 1_000);

describe("WatermarkTracker", () => {
  it("has no progress until a partition shows an event", () => {
    const t = tracker();
    expect(t.current(0)).toBe(Number.NEGATIVE_INFINITY);
    t.assign(0, 0);
    expect(t.current(0)).toBe(Number.NEGATIVE_INFINITY);
  });

  it("is the newest event time minus the out-of-orderness for one partition", () => {
    const t = tracker();
    t.observe(0, 100, 0);
    t.observe(0, 50, 1);
    expect(t.current(1)).toBe(90);
  });

  it("is held back by the slowest partition", () => {
    const t = tracker();
    t.observe(0, 100, 0);
    t.observe(1, 30, 0);
    expect(t.current(0)).toBe(20);
  });

  it("when a partition is quiet for the idle timeout, it stops holding the watermark back", () => {
    const t = tracker();
    t.observe(0, 30, 0);
    t.observe(1, 100, 500);
    expect(t.current(999)).toBe(20);
    expect(t.current(1_000)).toBe(90);
  });

  it("when every partition is idle, the most advanced one decides", () => {
    const t = tracker();
    t.observe(0, 30, 0);
    t.observe(1, 100, 0);
    expect(t.current(5_000)).toBe(90);
  });

  it("an assigned partition that never delivers goes idle too", () => {
    const t = tracker();
    t.assign(1, 0);
    t.observe(0, 100, 900);
    expect(t.current(900)).toBe(Number.NEGATIVE_INFINITY);
    expect(t.current(1_000)).toBe(90);
  });

  it("a revoked partition no longer counts", () => {
    const t = tracker();
    t.observe(0, 100, 0);
    t.observe(1, 30, 0);
    t.revoke(1);
    expect(t.current(0)).toBe(90);
    expect(t.owned()).toEqual([0]);
  });
});
