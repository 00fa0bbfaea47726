/**
 * The state of one (window, group): the event ids folded in (so a redelivered event counts
 * once), one accumulator per measure, and per partition that fed it the earliest offset and
 * that partition's newest event time just before it (where, and in what state, a replay
 * must start to rebuild it).
 */
import type { Row } from "../events/check-event.js";
import type { CompiledAggregation } from "./compile.js";
import { measureInput, newAccumulator, type Accumulator, type MeasureResult, type Value } from "./measures.js";
import type { Interval } from "./windows.js";
import { SmallMap, SmallSet } from "./small-collections.js";

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


export interface WindowState extends Interval {
  readonly groupKey: string;
  readonly group: Row;
  // Small collections: one entry is the common case (small-collections.ts).
  readonly ids: SmallSet<string>;
  readonly accumulators: Accumulator[];
  readonly firstSeen: SmallMap<number, FirstSeen>;
  firedOnTime: boolean;
  /** Changed since it was last emitted. */
  dirty: boolean;
}

export interface FirstSeen {
  offset: number;
  /** The partition's newest event time before that offset. */
  maxEventTimeMs: number;
}

export interface GroupKey {
  key: string;
  group: Row;
}

export function groupKeyOf(groupBy: readonly string[], row: Row): GroupKey {
  const group: Row = {};
  for (const f of groupBy) group[f] = row[f] ?? null;
  return { key: JSON.stringify(groupBy.map((f) => group[f])), group };
}

export function newWindowState(config: CompiledAggregation, g: GroupKey, w: Interval): WindowState {
  return {
    start: w.start,
    end: w.end,
    groupKey: g.key,
    group: g.group,
    ids: new SmallSet(),
    accumulators: config.measures.map((m) => newAccumulator(m.fn)),
    firstSeen: new SmallMap(),
    firedOnTime: false,
    dirty: false,
  };
}

export function windowId(s: { groupKey: string } & Interval): string {
  return `${s.start}|${s.end}|${s.groupKey}`;
}

/** Folds one event in; false when its id was already folded (a duplicate changes nothing). */
export function addEvent(config: CompiledAggregation, s: WindowState, e: AggregationEvent, partitionMaxBefore: number): boolean {
  const first = s.firstSeen.get(e.partition);
  if (first === undefined || e.offset < first.offset) s.firstSeen.set(e.partition, { offset: e.offset, maxEventTimeMs: partitionMaxBefore });
  if (s.ids.has(e.eventId)) return false;
  s.ids.add(e.eventId);
  config.measures.forEach((m, i) => s.accumulators[i]!.add(measureInput(m, e.row)));
  s.dirty = true;
  return true;
}

/**
 * Folds session `other` into `into`. Event ids are assumed to name one event each, so the
 * two id sets are disjoint (a redelivery lands in the session holding its first copy).
 */
export function mergeWindowState(into: WindowState, other: WindowState): void {
  for (const id of other.ids) into.ids.add(id);
  into.accumulators.forEach((a, i) => a.merge(other.accumulators[i]!));
  for (const [p, o] of other.firstSeen) {
    const first = into.firstSeen.get(p);
    if (first === undefined || o.offset < first.offset) into.firstSeen.set(p, o);
  }
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
  return 2 * s.ids.size + (s.firedOnTime ? 1 : 0);
}

export function resultRow(config: CompiledAggregation, s: WindowState, firing: Firing): ResultRow {
  const row: ResultRow = { windowStart: s.start, windowEnd: s.end, ...s.group, version: versionOf(s), firing };
  config.measures.forEach((m, i) => (row[m.name] = s.accumulators[i]!.result()));
  return row;
}
