/**
 * Sliding windows by slicing (Flink's window slicing; Traub et al., "Scotty"). Event time is
 * cut into slices of gcd(size, slide), the widest span every window boundary falls on, so an
 * event updates the one slice it falls in instead of size/slide windows, and a window's value
 * is merged from its slices when a row is written. Folding, event ids and the offsets a replay
 * needs are kept once per event instead of once per window.
 *
 * Lateness is decided per (event, window): an event can be too late for its older windows and
 * counted in its newer ones. So a slice keeps one part per first window counted (`from`, a
 * window start), nearly always one; a window reads the parts of its slices with from <= its
 * start. Every later window containing a part counts it too, since windows that are too late
 * are always the oldest ones.
 *
 * Event ids live in the slice, across its parts: an event id names one event, its time
 * included, so a redelivery lands in the slice holding the first copy and changes nothing.
 */
import type { Row } from "../events/check-event.js";
import {
  addEvent,
  initMeasures,
  mergedResults,
  WindowState,
  type AggregationEvent,
  type Firing,
  type GroupKey,
  type MeasureLayout,
  type ResultRow,
  type WindowInterval,
} from "./window-state.js";

/** The events of one slice and group first counted in the window starting at `from`. */
export class SlicePart extends WindowState {
  constructor(w: WindowInterval, key: GroupKey, group: Row, readonly from: number) {
    super(w, key, group);
  }
}

/** A slice's parts hold no group row: the window's own is written. */
const NO_GROUP: Row = Object.freeze({}) as Row;

export function sliceWidthMs(sizeMs: number, slideMs: number): number {
  let a = sizeMs;
  let b = slideMs;
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export class Slices {
  /** Each group's parts, sorted by (start, from). */
  private readonly byGroup = new Map<GroupKey, SlicePart[]>();
  /** One interval per slice start, shared by its groups' parts. */
  private readonly intervals = new Map<number, WindowInterval>();
  private parts = 0;
  /** The parts a window being written reads (reused: one row is written at a time). */
  private readonly scratch: SlicePart[] = [];

  constructor(
    private readonly layout: MeasureLayout,
    readonly widthMs: number,
  ) {}

  /**
   * Folds e into its slice, counted in the windows from `from` on. `partitionMaxBefore` is its
   * partition's newest event time before it (where a replay must start). false: the slice
   * already holds the event (a redelivery), which changes no value.
   */
  add(key: GroupKey, e: AggregationEvent, from: number, partitionMaxBefore: number): boolean {
    const start = Math.floor(e.eventTimeMs / this.widthMs) * this.widthMs;
    let parts = this.byGroup.get(key);
    if (parts === undefined) this.byGroup.set(key, (parts = []));
    let i = lowerBound(parts, start);
    let at = -1;
    let target: SlicePart | undefined;
    for (; i < parts.length && parts[i]!.start === start; i++) {
      const part = parts[i]!;
      if (part.hasId(e.eventId)) {
        part.noteFirst(e.partition, e.offset, partitionMaxBefore);
        return false;
      }
      if (part.from === from) target = part;
      else if (at < 0 && part.from > from) at = i;
    }
    if (target === undefined) {
      target = new SlicePart(this.interval(start), key, NO_GROUP, from);
      initMeasures(this.layout, target);
      parts.splice(at < 0 ? i : at, 0, target);
      this.parts++;
    }
    return addEvent(this.layout, target, e, partitionMaxBefore);
  }

  /**
   * The full value of `window` (its group's window record): the parts of its slices that count
   * in it, merged. Its version counts each event once, as an unsliced window's would.
   */
  row(window: WindowState, firing: Firing): ResultRow {
    const counted = this.scratch;
    counted.length = 0;
    let events = 0;
    const parts = this.byGroup.get(window.groupKey);
    if (parts !== undefined) {
      for (let i = lowerBound(parts, window.start); i < parts.length && parts[i]!.start < window.end; i++) {
        const part = parts[i]!;
        if (part.from > window.start) continue;
        events += part.idCount;
        counted.push(part);
      }
    }
    const row: ResultRow = { windowStart: window.start, windowEnd: window.end, ...window.group, version: 2 * events + (window.firedOnTime ? 1 : 0), firing };
    mergedResults(this.layout, counted, row);
    counted.length = 0;
    return row;
  }

  /** Drops the group's parts before `start`: no open window of the group contains them. */
  dropBefore(key: GroupKey, start: number): void {
    const parts = this.byGroup.get(key);
    if (parts === undefined) return;
    const n = lowerBound(parts, start);
    if (n === 0) return;
    for (let i = 0; i < n; i++) this.release(parts[i]!);
    if (n === parts.length) this.byGroup.delete(key);
    else parts.splice(0, n);
  }

  forEachPart(f: (part: SlicePart) => void): void {
    for (const parts of this.byGroup.values()) for (const part of parts) f(part);
  }

  eventIds(): number {
    let n = 0;
    this.forEachPart((part) => (n += part.idCount));
    return n;
  }

  size(): number {
    return this.parts;
  }

  private interval(start: number): WindowInterval {
    let w = this.intervals.get(start);
    if (w === undefined) this.intervals.set(start, (w = { start, end: start + this.widthMs, refs: 0 }));
    w.refs++;
    return w;
  }

  private release(part: SlicePart): void {
    this.parts--;
    if (--part.w.refs === 0) this.intervals.delete(part.start);
  }
}

/** The first index in `parts` (sorted by start) whose start is not below `start`. */
function lowerBound(parts: readonly SlicePart[], start: number): number {
  let lo = 0;
  let hi = parts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (parts[mid]!.start < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
