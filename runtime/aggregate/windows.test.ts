import { describe, expect, it } from "vitest";
import { fixedWindowsFor, mergeSession, overlaps, sessionFor } from "./windows.js";

describe("fixedWindowsFor", () => {
  it("puts an event in exactly one tumbling window aligned to epoch 0", () => {
    expect(fixedWindowsFor(61_000, 60_000, 60_000)).toEqual([{ start: 60_000, end: 120_000 }]);
    expect(fixedWindowsFor(60_000, 60_000, 60_000)).toEqual([{ start: 60_000, end: 120_000 }]);
    expect(fixedWindowsFor(59_999, 60_000, 60_000)).toEqual([{ start: 0, end: 60_000 }]);
  });

  it("puts an event in size/slide sliding windows, oldest first", () => {
    expect(fixedWindowsFor(25, 30, 10)).toEqual([
      { start: 0, end: 30 },
      { start: 10, end: 40 },
      { start: 20, end: 50 },
    ]);
  });

  it("handles a slide that does not divide the size", () => {
    expect(fixedWindowsFor(20, 25, 10)).toEqual([
      { start: 0, end: 25 },
      { start: 10, end: 35 },
      { start: 20, end: 45 },
    ]);
  });
});

describe("sessions", () => {
  it("keeps sessions that only touch apart: a full gap of inactivity separates them", () => {
    expect(overlaps({ start: 0, end: 10 }, { start: 10, end: 20 })).toBe(false);
    expect(overlaps({ start: 0, end: 10 }, { start: 9, end: 19 })).toBe(true);
  });

  it("merges every open session an event bridges", () => {
    const open = [{ start: 0, end: 10 }, { start: 14, end: 24 }, { start: 40, end: 50 }];
    const { absorbed, merged } = mergeSession(open, sessionFor(8, 10));
    expect(absorbed).toEqual([open[0], open[1]]);
    expect(merged).toEqual({ start: 0, end: 24 });
  });

  it("opens a new session when nothing is near", () => {
    expect(mergeSession([{ start: 0, end: 10 }], sessionFor(30, 10))).toEqual({ absorbed: [], merged: { start: 30, end: 40 } });
  });
});
