/**
 * Measure accumulators. Each supports add (one event), merge (session windows that grow
 * together) and result (the FULL value of the window so far — never an increment).
 * They define the semantics; the engine keeps the same values in the window state's compact
 * slots (window-state.ts, tested against these), with these helpers.
 * Missing or null field values are skipped by every measure but count, which counts events.
 */
import type { Row } from "../events/check-event.js";
import type { CompiledMeasure, MeasureFn } from "./compile.js";
import { HyperLogLog } from "./hyperloglog.js";
import { SmallSet } from "./small-collections.js";

export type Value = Row[string];
export type MeasureResult = number | string | null;

export interface Accumulator {
  add(value: Value): void;
  merge(other: Accumulator): void;
  result(): MeasureResult;
}

export function newAccumulator(fn: MeasureFn): Accumulator {
  switch (fn) {
    case "count":
      return new Count();
    case "sum":
      return new Sum();
    case "avg":
      return new Avg();
    case "min":
      return new Extreme((a, b) => a < b);
    case "max":
      return new Extreme((a, b) => a > b);
    case "uniqExact":
      return new UniqExact();
    case "uniq":
      return new Uniq();
  }
}

/** The value a measure reads from a row (count reads none: it counts the event). */
export function measureInput(m: CompiledMeasure, row: Row): Value {
  return m.field === undefined ? true : (row[m.field] ?? null);
}

// int64 values beyond 2^53 arrive as decimal strings; sums and averages read them as
// numbers (losing low digits there, as Float64 would).
export function numeric(v: Value): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

// Distinctness is by type and value: the number 1 and the string "1" differ.
export function distinctKey(v: Value): string | undefined {
  if (v === null || v === undefined) return undefined;
  return `${typeof v === "string" ? "s" : typeof v === "number" ? "n" : "b"}${String(v)}`;
}

class Count implements Accumulator {
  n = 0;
  add(): void {
    this.n++;
  }
  merge(other: Accumulator): void {
    this.n += (other as Count).n;
  }
  result(): number {
    return this.n;
  }
}

class Sum implements Accumulator {
  total = 0;
  add(v: Value): void {
    const n = numeric(v);
    if (n !== undefined) this.total += n;
  }
  merge(other: Accumulator): void {
    this.total += (other as Sum).total;
  }
  result(): number {
    return this.total;
  }
}

class Avg implements Accumulator {
  total = 0;
  n = 0;
  add(v: Value): void {
    const x = numeric(v);
    if (x === undefined) return;
    this.total += x;
    this.n++;
  }
  merge(other: Accumulator): void {
    this.total += (other as Avg).total;
    this.n += (other as Avg).n;
  }
  /** null when no event had a value: an average of nothing is unknown, not 0. */
  result(): number | null {
    return this.n === 0 ? null : this.total / this.n;
  }
}

/** min or max over numbers, or over strings (compared as strings). */
class Extreme implements Accumulator {
  best: number | string | null = null;
  constructor(private readonly better: (a: number | string, b: number | string) => boolean) {}
  add(v: Value): void {
    if (typeof v !== "number" && typeof v !== "string") return;
    if (this.best === null || this.better(v, this.best)) this.best = v;
  }
  merge(other: Accumulator): void {
    const b = (other as Extreme).best;
    if (b !== null) this.add(b);
  }
  result(): number | string | null {
    return this.best;
  }
}

class UniqExact implements Accumulator {
  readonly seen = new SmallSet<string>();
  add(v: Value): void {
    const k = distinctKey(v);
    if (k !== undefined) this.seen.add(k);
  }
  merge(other: Accumulator): void {
    for (const k of (other as UniqExact).seen) this.seen.add(k);
  }
  result(): number {
    return this.seen.size;
  }
}

class Uniq implements Accumulator {
  readonly sketch = new HyperLogLog();
  add(v: Value): void {
    const k = distinctKey(v);
    if (k !== undefined) this.sketch.add(k);
  }
  merge(other: Accumulator): void {
    this.sketch.merge((other as Uniq).sketch);
  }
  result(): number {
    return this.sketch.estimate();
  }
}
