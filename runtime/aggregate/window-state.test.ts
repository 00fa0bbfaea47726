import { describe, expect, it } from "vitest";
import { seeded } from "../../test/support/seeded.js";
import type { CompiledAggregation, MeasureFn } from "./compile.js";
import { AggregationEngine, type AggregationEvent, type Output } from "./engine.js";
import { newAccumulator, type Value } from "./measures.js";
import { addEvent, groupKeyOf, measureLayout, mergeWindowState, newWindowState, resultRow, versionOf, type WindowState } from "./window-state.js";

const FNS: MeasureFn[] = ["count", "sum", "avg", "min", "max", "uniqExact", "uniq"];
const VALUES: (Value | undefined)[] = ["a", "b", "1", "2.5", " ", "", 1, 2.5, 0, -0, NaN, Infinity, true, false, null, undefined];

function config(measures: { fn: MeasureFn; field: string }[], groupBy = ["g"]): CompiledAggregation {
  return {
    window: { type: "session", gapMs: 10 },
    maxOutOfOrdernessMs: 0,
    idleTimeoutMs: 1e15,
    allowedLatenessMs: 0,
    earlyFiringsMs: undefined,
    groupBy,
    measures: measures.map((m, i) => ({ name: `m${i}`, fn: m.fn, field: m.fn === "count" ? undefined : m.field })),
  };
}

describe("compact window state", () => {
  it("gives every measure the value of its accumulator (measures.ts) over random adds and session merges", () => {
    const random = seeded(14);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    for (let round = 0; round < 400; round++) {
      // More than four measures in some rounds: slots beyond the inline ones.
      const c = config(Array.from({ length: 1 + Math.floor(random() * 7) }, () => ({ fn: pick(FNS), field: pick(["x", "y"]) })));
      const layout = measureLayout(c);
      const values = random() < 0.5 ? VALUES : [null, undefined, undefined, "a", NaN, -0, 0];
      const parts = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, k) => {
        const s = newWindowState(layout, { start: 0, end: 10, refs: 0 }, "k", { g: "k" });
        const accs = c.measures.map((m) => newAccumulator(m.fn));
        const n = Math.floor(random() * 4);
        for (let i = 0; i < n; i++) {
          const row: Record<string, Value> = { g: "k" };
          for (const f of ["x", "y"]) {
            const v = pick(values);
            if (v !== undefined) row[f] = v;
          }
          const e: AggregationEvent = { partition: 0, offset: i, eventId: `${k}-${i}`, eventTimeMs: 0, row: row as AggregationEvent["row"] };
          expect(addEvent(layout, s, e, 0)).toBe(true);
          c.measures.forEach((m, j) => accs[j]!.add(m.field === undefined ? true : (row[m.field] ?? null)));
        }
        return { s, accs };
      });
      const [into, ...others] = parts;
      for (const o of others) {
        mergeWindowState(layout, into!.s, o.s);
        into!.accs.forEach((a, j) => a.merge(o.accs[j]!));
      }
      const row = resultRow(layout, into!.s, "on_time");
      c.measures.forEach((m, j) => expect(row[m.name], `${m.fn} round ${round}`).toStrictEqual(into!.accs[j]!.result()));
    }
  });

  it("keeps one event id inline and a set from the second: duplicates are refused, versions count distinct events", () => {
    const layout = measureLayout(config([{ fn: "count", field: "x" }]));
    const s: WindowState = newWindowState(layout, { start: 0, end: 10, refs: 0 }, "k", { g: "k" });
    const e = (id: string, partition: number, offset: number): AggregationEvent => ({ partition, offset, eventId: id, eventTimeMs: 0, row: { g: "k" } });
    expect(addEvent(layout, s, e("a", 1, 7), 100)).toBe(true);
    expect(addEvent(layout, s, e("a", 1, 9), 100)).toBe(false);
    expect(s.idCount).toBe(1);
    expect(addEvent(layout, s, e("b", 2, 3), 50)).toBe(true);
    expect(addEvent(layout, s, e("a", 2, 1), 40)).toBe(false);
    expect(addEvent(layout, s, e("c", 1, 5), 90)).toBe(true);
    expect(s.idCount).toBe(3);
    expect(versionOf(s)).toBe(6);
    expect(resultRow(layout, s, "early").m0).toBe(3);
    // Earliest offset per feeding partition (with the partition's event time then), first feeder first.
    const firsts: number[][] = [];
    s.forEachFirst((p, offset, max) => firsts.push([p, offset, max]));
    expect(firsts).toEqual([[1, 5, 90], [2, 1, 40]]);
    expect(s.partitions()).toEqual([1, 2]);
    expect([s.fedBy(1), s.fedBy(2), s.fedBy(3)]).toEqual([true, true, false]);
  });

  it("keys one group-by field by its value: the same groups as the JSON key", () => {
    const values = VALUES.filter((v) => v !== undefined);
    for (const a of values) {
      for (const b of values) {
        const json = JSON.stringify([a]) === JSON.stringify([b]);
        const m = new Map([[groupKeyOf(["g"], { g: a as never }), 1]]);
        expect(m.has(groupKeyOf(["g"], { g: b as never })), `${String(a)} ${String(b)}`).toBe(json);
      }
    }
    expect(groupKeyOf(["g"], {})).toBe(null);
    expect(groupKeyOf(["g", "h"], { g: "a", h: 1 })).toBe('["a",1]');
    expect(groupKeyOf([], { g: "a" })).toBe("[]");
  });

  it("writes each window's group values as its first event had them (0 and -0 are one group)", () => {
    const c: CompiledAggregation = { ...config([{ fn: "count", field: "x" }]), window: { type: "tumbling", sizeMs: 10, slideMs: 10 }, maxOutOfOrdernessMs: 100 };
    const e = new AggregationEngine(c, () => 0);
    e.assign([0]);
    const ev = (t: number, g: number, offset: number): AggregationEvent => ({ partition: 0, offset, eventId: String(offset), eventTimeMs: t, row: { g } });
    const out: Output[] = [];
    for (const [t, g, o] of [[1, 0, 0], [2, -0, 1], [11, -0, 2], [12, 0, 3]] as const) out.push(...e.onEvent(ev(t, g, o)));
    expect(e.stateSize()).toEqual({ windows: 2, groups: 1, eventIds: 4 });
    const rows = [...out, ...e.finish()].flatMap((o) => (o.kind === "result" ? [o.row] : []));
    expect(rows.map((r) => [r.windowStart, Object.is(r.g, -0) ? "-0" : r.g, r.m0])).toEqual([[0, 0, 2], [10, "-0", 2]]);
  });
});
