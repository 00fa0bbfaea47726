/**
 * Window assignment. Fixed windows (tumbling, sliding) are aligned to epoch 0, so every
 * worker and every replay assigns an event to the same windows without coordination.
 * Sessions are intervals [t, t + gap) per event, merged while they overlap.
 */

export interface Interval {
  start: number;
  end: number;
}

/** Every window [start, start + size) with start a multiple of slide that contains t. */
export function fixedWindowsFor(t: number, sizeMs: number, slideMs: number): Interval[] {
  const lastStart = Math.floor(t / slideMs) * slideMs;
  const windows: Interval[] = [];
  for (let start = lastStart; start > t - sizeMs; start -= slideMs) windows.push({ start, end: start + sizeMs });
  return windows.reverse();
}

/** The interval an event at t opens on its own: activity keeps a session open for gap. */
export function sessionFor(t: number, gapMs: number): Interval {
  return { start: t, end: t + gapMs };
}

// Half-open intervals: sessions that only touch ([0,10) and [10,20)) stay apart, because
// a full gap of inactivity lies between their events.
export function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end;
}

export function cover(intervals: readonly Interval[]): Interval {
  return {
    start: Math.min(...intervals.map((i) => i.start)),
    end: Math.max(...intervals.map((i) => i.end)),
  };
}

/**
 * Where an event's session lands among a group's open sessions: the ones it bridges or
 * extends (to be merged into one) and the merged interval.
 */
export function mergeSession<T extends Interval>(open: readonly T[], proto: Interval): { absorbed: T[]; merged: Interval } {
  const absorbed = open.filter((s) => overlaps(s, proto));
  return { absorbed, merged: cover([proto, ...absorbed]) };
}
