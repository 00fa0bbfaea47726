/**
 * The state of one (window, group): the event ids folded in (so a redelivered event counts
 * once), one measure state per measure, and per partition that fed it the earliest offset and
 * that partition's newest event time just before it (where, and in what state, a replay
 * must start to rebuild it).
 *
 * Compact (issue 14: a million open keys must fit): one object per key with fixed fields.
 * - The interval is shared by every group of a fixed window (one object per window, not per key).
 * - The group key is the group-by value itself for one group-by field (a JSON array of the
 *   values otherwise), and the group row is shared with the group's other windows.
 * - Event ids: the first inline, a Set only from the second one (every open window keeps its
 *   ids: a redelivery, a replay or a producer retry can reach any of them).
 * - The first partition that fed the window inline (offset and event time), a Map only for more.
 * - Measure states are plain values in up to four inline slots (count and sum are numbers;
 *   uniqExact holds its first value as is, a Set of distinct keys from the second; uniq's
 *   sketch is made on its first value), further slots in one array.
 */
import type { Row } from "../events/check-event.js";
import type { CompiledAggregation, MeasureFn } from "./compile.js";
import { HyperLogLog } from "./hyperloglog.js";
import { distinctKey, numeric, type MeasureResult, type Value } from "./measures.js";
import type { Interval } from "./windows.js";

export type Firing = "early" | "on_time" | "late";

export interface AggregationEvent {
  partition: number;
  offset: number;
  eventId: string;
  eventTimeMs: number;
  row: Row;
}

/** A full window value, upserted by (windowStart, windowEnd, group values) keeping the highest version. */
export type ResultRow = { windowStart: number; windowEnd: number; version: number; firing: Firing } & Record<string, Value | MeasureResult>;

/**
 * Identifies a group: the value itself for one group-by field (Map keys compare as the JSON
 * key did: by type and value, -0 as 0; non-finite numbers, which JSON writes as null, are null),
 * otherwise the JSON array of the values.
 */
export type GroupKey = string | number | boolean | null;

/** A window's bounds; fixed windows share one per window (refs: open keys using it). */
export interface WindowInterval extends Interval {
  refs: number;
}

export interface FirstSeen {
  offset: number;
  /** The partition's newest event time before that offset. */
  maxEventTimeMs: number;
}

const FIRED = 1;
const DIRTY = 2;
const TRACKED = 4;
const HAS_FIRST = 8;

export class WindowState {
  /** Event ids folded in: none, one, or a Set from the second. */
  ids: string | Set<string> | undefined = undefined;
  /** The first partition that fed the window, its earliest offset and event time then (HAS_FIRST). */
  p0 = 0;
  off0 = 0;
  max0 = 0;
  /** Further partitions that fed it. */
  more: Map<number, FirstSeen> | undefined = undefined;
  private flags = 0;
  m0: unknown = undefined;
  m1: unknown = undefined;
  m2: unknown = undefined;
  m3: unknown = undefined;
  mx: unknown[] | undefined = undefined;
  /** The engine's list of open windows, in the order they were tracked. */
  prev: WindowState | undefined = undefined;
  next: WindowState | undefined = undefined;

  constructor(
    public w: WindowInterval,
    readonly groupKey: GroupKey,
    readonly group: Row,
  ) {}

  get start(): number {
    return this.w.start;
  }
  get end(): number {
    return this.w.end;
  }
  get firedOnTime(): boolean {
    return (this.flags & FIRED) !== 0;
  }
  set firedOnTime(v: boolean) {
    this.flags = v ? this.flags | FIRED : this.flags & ~FIRED;
  }
  /** Changed since it was last emitted. */
  get dirty(): boolean {
    return (this.flags & DIRTY) !== 0;
  }
  set dirty(v: boolean) {
    this.flags = v ? this.flags | DIRTY : this.flags & ~DIRTY;
  }
  /** In the engine's index. */
  get tracked(): boolean {
    return (this.flags & TRACKED) !== 0;
  }
  set tracked(v: boolean) {
    this.flags = v ? this.flags | TRACKED : this.flags & ~TRACKED;
  }

  get idCount(): number {
    const ids = this.ids;
    return ids === undefined ? 0 : typeof ids === "string" ? 1 : ids.size;
  }

  hasId(id: string): boolean {
    const ids = this.ids;
    return ids === undefined ? false : typeof ids === "string" ? ids === id : ids.has(id);
  }

  addId(id: string): void {
    const ids = this.ids;
    if (ids === undefined) this.ids = id;
    else if (typeof ids === "string") {
      if (ids !== id) this.ids = new Set([ids, id]);
    } else ids.add(id);
  }

  fedBy(p: number): boolean {
    if ((this.flags & HAS_FIRST) === 0) return false;
    return this.p0 === p || (this.more !== undefined && this.more.has(p));
  }

  firstOffsetOf(p: number): number | undefined {
    if ((this.flags & HAS_FIRST) === 0) return undefined;
    if (this.p0 === p) return this.off0;
    return this.more?.get(p)?.offset;
  }

  /** Records that partition p fed the window at `offset` unless it had fed it earlier. */
  noteFirst(p: number, offset: number, maxEventTimeMs: number): void {
    if ((this.flags & HAS_FIRST) === 0) {
      this.flags |= HAS_FIRST;
      this.p0 = p;
      this.off0 = offset;
      this.max0 = maxEventTimeMs;
    } else if (this.p0 === p) {
      if (offset < this.off0) {
        this.off0 = offset;
        this.max0 = maxEventTimeMs;
      }
    } else {
      const m = (this.more ??= new Map());
      const first = m.get(p);
      if (first === undefined || offset < first.offset) m.set(p, { offset, maxEventTimeMs });
    }
  }

  /** The partitions that fed the window, in the order they first did. */
  partitions(): number[] {
    if ((this.flags & HAS_FIRST) === 0) return [];
    return this.more === undefined ? [this.p0] : [this.p0, ...this.more.keys()];
  }

  forEachFirst(f: (p: number, offset: number, maxEventTimeMs: number) => void): void {
    if ((this.flags & HAS_FIRST) === 0) return;
    f(this.p0, this.off0, this.max0);
    if (this.more !== undefined) for (const [p, o] of this.more) f(p, o.offset, o.maxEventTimeMs);
  }

  slot(i: number): unknown {
    switch (i) {
      case 0:
        return this.m0;
      case 1:
        return this.m1;
      case 2:
        return this.m2;
      case 3:
        return this.m3;
      default:
        return this.mx![i - 4];
    }
  }

  setSlot(i: number, v: unknown): void {
    switch (i) {
      case 0:
        this.m0 = v;
        break;
      case 1:
        this.m1 = v;
        break;
      case 2:
        this.m2 = v;
        break;
      case 3:
        this.m3 = v;
        break;
      default:
        (this.mx ??= [])[i - 4] = v;
    }
  }
}

interface MeasureOp {
  name: string;
  fn: MeasureFn;
  field: string | undefined;
  /** Its state's slot (avg: total there, count in the next). */
  slot: number;
}

/** Where each measure's state lives: compiled once per aggregation. */
export interface MeasureLayout {
  ops: MeasureOp[];
  slots: number;
}

export function measureLayout(config: CompiledAggregation): MeasureLayout {
  let slots = 0;
  const ops = config.measures.map((m) => {
    const op = { name: m.name, fn: m.fn, field: m.field, slot: slots };
    slots += m.fn === "avg" ? 2 : 1;
    return op;
  });
  return { ops, slots };
}

/** One group-by field: its value is the key; several: the JSON array of their values (as before). */
export function groupKeyOf(groupBy: readonly string[], row: Row): GroupKey {
  if (groupBy.length === 1) {
    const v = row[groupBy[0]!] ?? null;
    return typeof v === "number" && !Number.isFinite(v) ? null : v;
  }
  return JSON.stringify(groupBy.map((f) => row[f] ?? null));
}

export function groupRowOf(groupBy: readonly string[], row: Row): Row {
  const group: Row = {};
  for (const f of groupBy) group[f] = row[f] ?? null;
  return group;
}

/** Whether `group` holds exactly the group-by values of `row` (shared between a group's windows when so). */
export function sameGroupRow(groupBy: readonly string[], group: Row, row: Row): boolean {
  for (const f of groupBy) if (!Object.is(group[f], row[f] ?? null)) return false;
  return true;
}

export function newWindowState(layout: MeasureLayout, w: WindowInterval, key: GroupKey, group: Row): WindowState {
  const s = new WindowState(w, key, group);
  initMeasures(layout, s);
  return s;
}

/** Sets each measure's initial state in `s`'s slots. */
export function initMeasures(layout: MeasureLayout, s: WindowState): void {
  if (layout.slots > 4) s.mx = new Array<unknown>(layout.slots - 4).fill(undefined);
  for (const op of layout.ops) {
    switch (op.fn) {
      case "count":
      case "sum":
        s.setSlot(op.slot, 0);
        break;
      case "avg":
        s.setSlot(op.slot, 0);
        s.setSlot(op.slot + 1, 0);
        break;
      case "min":
      case "max":
        s.setSlot(op.slot, null);
        break;
      case "uniqExact":
      case "uniq":
        break; // undefined: no value yet
    }
  }
}

/** Folds one event in; false when its id was already folded (a duplicate changes nothing). */
export function addEvent(layout: MeasureLayout, s: WindowState, e: AggregationEvent, partitionMaxBefore: number): boolean {
  s.noteFirst(e.partition, e.offset, partitionMaxBefore);
  if (s.hasId(e.eventId)) return false;
  s.addId(e.eventId);
  const row = e.row;
  for (const op of layout.ops) addValue(s, op, op.field === undefined ? true : (row[op.field] ?? null));
  s.dirty = true;
  return true;
}

// The same arithmetic, comparisons and distinctness as the accumulators in measures.ts.
function addValue(s: WindowState, op: MeasureOp, v: Value): void {
  const i = op.slot;
  switch (op.fn) {
    case "count":
      s.setSlot(i, (s.slot(i) as number) + 1);
      return;
    case "sum": {
      const n = numeric(v);
      if (n !== undefined) s.setSlot(i, (s.slot(i) as number) + n);
      return;
    }
    case "avg": {
      const x = numeric(v);
      if (x === undefined) return;
      s.setSlot(i, (s.slot(i) as number) + x);
      s.setSlot(i + 1, (s.slot(i + 1) as number) + 1);
      return;
    }
    case "min":
    case "max": {
      if (typeof v !== "number" && typeof v !== "string") return;
      const best = s.slot(i) as number | string | null;
      if (best === null || (op.fn === "min" ? v < best : v > best)) s.setSlot(i, v);
      return;
    }
    case "uniqExact": {
      if (v === null || v === undefined) return;
      const seen = s.slot(i) as UniqExactState;
      if (seen === undefined) s.setSlot(i, v);
      else if (seen instanceof Set) seen.add(v);
      else if (!sameDistinct(seen, v)) s.setSlot(i, new Set([seen, v]));
      return;
    }
    case "uniq": {
      const k = distinctKey(v);
      if (k === undefined) return;
      let sketch = s.slot(i) as HyperLogLog | undefined;
      if (sketch === undefined) s.setSlot(i, (sketch = new HyperLogLog()));
      sketch.add(k);
      return;
    }
  }
}

/**
 * uniqExact: no value yet, the one value seen, or a Set of the values from the second. A Set
 * tells values apart as distinctKey (measures.ts) does: by type and value, NaN one value, -0
 * as 0 (SameValueZero), and holds the row's own values instead of a new key string for each.
 */
type Distinct = string | number | boolean;
type UniqExactState = undefined | Distinct | Set<Distinct>;

/** Same distinct key (type and value): NaN is one value, and -0 is 0, as their keys say. */
function sameDistinct(a: string | number | boolean, b: string | number | boolean): boolean {
  return a === b || (a !== a && b !== b);
}

function uniqExactKeys(seen: UniqExactState): Iterable<Distinct> {
  return seen === undefined ? [] : seen instanceof Set ? seen : [seen];
}

function mergeValue(into: WindowState, other: WindowState, op: MeasureOp): void {
  const i = op.slot;
  switch (op.fn) {
    case "count":
    case "sum":
      into.setSlot(i, (into.slot(i) as number) + (other.slot(i) as number));
      return;
    case "avg":
      into.setSlot(i, (into.slot(i) as number) + (other.slot(i) as number));
      into.setSlot(i + 1, (into.slot(i + 1) as number) + (other.slot(i + 1) as number));
      return;
    case "min":
    case "max": {
      const b = other.slot(i) as number | string | null;
      if (b !== null) addValue(into, op, b);
      return;
    }
    case "uniqExact": {
      const theirs = other.slot(i) as UniqExactState;
      if (theirs === undefined) return;
      const mine = into.slot(i) as UniqExactState;
      if (mine === undefined && !(theirs instanceof Set)) {
        into.setSlot(i, theirs);
        return;
      }
      const set = mine instanceof Set ? mine : new Set(uniqExactKeys(mine));
      for (const k of uniqExactKeys(theirs)) set.add(k);
      into.setSlot(i, set);
      return;
    }
    case "uniq": {
      const theirs = other.slot(i) as HyperLogLog | undefined;
      if (theirs === undefined) return;
      let mine = into.slot(i) as HyperLogLog | undefined;
      if (mine === undefined) into.setSlot(i, (mine = new HyperLogLog()));
      mine.merge(theirs);
      return;
    }
  }
}

const EMPTY_UNIQ = new HyperLogLog().estimate();

/**
 * The results of a window held in several states (a sliced window's parts), written into
 * `row`: the values merging them into one state would give, without building that state
 * (the sets and sketches of a merge would be garbage once the row is written).
 */
export function mergedResults(layout: MeasureLayout, states: readonly WindowState[], row: ResultRow): void {
  for (const op of layout.ops) row[op.name] = mergedResult(op, states);
}

/**
 * Values already counted by the distinctCount call under way: a value is counted when its
 * mark is not the call's. Never cleared per call (a new Set or a clear() per row costs a new
 * hash table), only once it holds many values; keys compare as a Set's (SameValueZero), so
 * values are told apart as distinctKey (measures.ts) does.
 */
const distinctMarks = new Map<Distinct, number>();
let distinctMark = 0;
const MARKS_MAX = 16_384;

/** How many distinct values the uniqExact states in slot i hold together. */
function distinctCount(states: readonly WindowState[], i: number): number {
  let holding = 0;
  let one: UniqExactState = undefined;
  for (const s of states) {
    const v = s.slot(i) as UniqExactState;
    if (v !== undefined) {
      holding++;
      one = v;
    }
  }
  if (holding <= 1) return one === undefined ? 0 : one instanceof Set ? one.size : 1;
  if (distinctMarks.size > MARKS_MAX || distinctMark >= 0x3fffffff) {
    distinctMarks.clear();
    distinctMark = 0;
  }
  const mark = ++distinctMark;
  let n = 0;
  for (const s of states) {
    const v = s.slot(i) as UniqExactState;
    if (v === undefined) continue;
    if (v instanceof Set) {
      for (const k of v) {
        if (distinctMarks.get(k) !== mark) {
          distinctMarks.set(k, mark);
          n++;
        }
      }
    } else if (distinctMarks.get(v) !== mark) {
      distinctMarks.set(v, mark);
      n++;
    }
  }
  return n;
}

function mergedResult(op: MeasureOp, states: readonly WindowState[]): MeasureResult {
  const i = op.slot;
  switch (op.fn) {
    case "count":
    case "sum": {
      let total = 0;
      for (const s of states) total += s.slot(i) as number;
      return total;
    }
    case "avg": {
      let total = 0;
      let n = 0;
      for (const s of states) {
        total += s.slot(i) as number;
        n += s.slot(i + 1) as number;
      }
      return n === 0 ? null : total / n;
    }
    case "min":
    case "max": {
      let best: number | string | null = null;
      for (const s of states) {
        const v = s.slot(i) as number | string | null;
        if (v !== null && (best === null || (op.fn === "min" ? v < best : v > best))) best = v;
      }
      return best;
    }
    case "uniqExact":
      return distinctCount(states, i);
    case "uniq": {
      let merged: HyperLogLog | undefined;
      let one: HyperLogLog | undefined;
      for (const s of states) {
        const sketch = s.slot(i) as HyperLogLog | undefined;
        if (sketch === undefined) continue;
        if (one === undefined) one = sketch;
        else (merged ??= copyOf(one)).merge(sketch);
      }
      return (merged ?? one)?.estimate() ?? EMPTY_UNIQ;
    }
  }
}

function copyOf(sketch: HyperLogLog): HyperLogLog {
  const copy = new HyperLogLog();
  copy.merge(sketch);
  return copy;
}

function resultOf(s: WindowState, op: MeasureOp): MeasureResult {
  const i = op.slot;
  switch (op.fn) {
    case "count":
    case "sum":
      return s.slot(i) as number;
    case "avg": {
      // null when no event had a value: an average of nothing is unknown, not 0.
      const n = s.slot(i + 1) as number;
      return n === 0 ? null : (s.slot(i) as number) / n;
    }
    case "min":
    case "max":
      return s.slot(i) as number | string | null;
    case "uniqExact": {
      const seen = s.slot(i) as UniqExactState;
      return seen === undefined ? 0 : seen instanceof Set ? seen.size : 1;
    }
    case "uniq": {
      const sketch = s.slot(i) as HyperLogLog | undefined;
      return sketch === undefined ? EMPTY_UNIQ : sketch.estimate();
    }
  }
}

/**
 * Folds session `other` into `into`. Event ids are assumed to name one event each, so the
 * two id sets are disjoint (a redelivery lands in the session holding its first copy).
 */
export function mergeWindowState(layout: MeasureLayout, into: WindowState, other: WindowState): void {
  const ids = other.ids;
  if (typeof ids === "string") into.addId(ids);
  else if (ids !== undefined) for (const id of ids) into.addId(id);
  for (const op of layout.ops) mergeValue(into, other, op);
  other.forEachFirst((p, offset, max) => into.noteFirst(p, offset, max));
  into.firedOnTime ||= other.firedOnTime;
  into.dirty = true;
}

/**
 * Deterministic from the input alone: twice the number of distinct events folded in, plus
 * one once the window has closed on time. It grows with every change, and a replay that
 * folds the same events reaches the same version (wall-clock versions would let a replayed
 * partial value win over the complete one).
 */
export function versionOf(s: WindowState): number {
  return 2 * s.idCount + (s.firedOnTime ? 1 : 0);
}

export function resultRow(layout: MeasureLayout, s: WindowState, firing: Firing): ResultRow {
  const row: ResultRow = { windowStart: s.start, windowEnd: s.end, ...s.group, version: versionOf(s), firing };
  for (const op of layout.ops) row[op.name] = resultOf(s, op);
  return row;
}
