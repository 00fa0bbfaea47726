/**
 * Property tests: random streams against a brute-force oracle that keeps raw events and
 * recomputes every window from scratch under the same watermark and lateness rules.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CompiledAggregation, CompiledWindow } from "./compile.js";
import { AggregationEngine, type AggregationEvent, type Checkpoint, type Output } from "./engine.js";
import { HLL_STANDARD_ERROR } from "./hyperloglog.js";

type Item = { tick: true } | AggregationEvent;
type Values = Record<string, unknown>;

const MEASURES: CompiledAggregation["measures"] = [
  { name: "events", fn: "count", field: undefined },
  { name: "total", fn: "sum", field: "n" },
  { name: "lo", fn: "min", field: "n" },
  { name: "hi", fn: "max", field: "n" },
  { name: "mean", fn: "avg", field: "n" },
  { name: "users", fn: "uniqExact", field: "u" },
  { name: "approxUsers", fn: "uniq", field: "u" },
];

const WINDOWS: CompiledWindow[] = [
  { type: "tumbling", sizeMs: 50, slideMs: 50 },
  { type: "sliding", sizeMs: 60, slideMs: 20 },
  { type: "sliding", sizeMs: 50, slideMs: 20 },
  { type: "session", gapMs: 15 },
];

const configArb = fc.record({
  window: fc.constantFrom(...WINDOWS),
  maxOutOfOrdernessMs: fc.constantFrom(0, 20),
  allowedLatenessMs: fc.constantFrom(0, 30),
  earlyFiringsMs: fc.constantFrom(undefined, 1),
}).map((c): CompiledAggregation => ({ ...c, idleTimeoutMs: 1e15, groupBy: ["tenant"], measures: MEASURES }));

/**
 * Streams that mostly move forward with jitter, some events far behind, some redelivered
 * (same id, time and row), spread over 1-3 partitions, with processing-time ticks between.
 */
const streamArb = fc.integer({ min: 1, max: 3 }).chain((partitions) =>
  fc
    .array(
      fc.record({
        step: fc.integer({ min: 0, max: 12 }),
        behind: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 25 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }) }),
        partition: fc.integer({ min: 0, max: partitions - 1 }),
        tenant: fc.constantFrom("a", "b"),
        n: fc.option(fc.integer({ min: -20, max: 20 }), { freq: 5 }),
        u: fc.option(fc.constantFrom(...Array.from({ length: 8 }, (_, i) => `user${i}`)), { freq: 5 }),
        redeliver: fc.option(fc.nat(), { freq: 6 }),
        tick: fc.boolean(),
      }),
      { maxLength: 60 },
    )
    .map((specs) => {
      const items: Item[] = [];
      const sent: Omit<AggregationEvent, "offset">[] = [];
      const nextOffset = new Array<number>(partitions).fill(0);
      let base = 0;
      specs.forEach((s, i) => {
        base += s.step;
        const original = s.redeliver !== null && sent.length > 0 ? sent[s.redeliver % sent.length]! : undefined;
        const event = original ?? { partition: s.partition, eventId: `e${i}`, eventTimeMs: Math.max(0, base - s.behind), row: { tenant: s.tenant, n: s.n, u: s.u } };
        sent.push(event);
        items.push({ ...event, offset: nextOffset[event.partition]!++ });
        if (s.tick) items.push({ tick: true });
      });
      return { partitions: Array.from({ length: partitions }, (_, p) => p), items };
    }),
);

// ---- the oracle: raw events, recomputed from scratch ----

interface OracleWindow {
  start: number;
  end: number;
  tenant: string;
  events: AggregationEvent[];
}

function oracle(config: CompiledAggregation, partitions: number[], items: Item[]) {
  const L = config.allowedLatenessMs;
  const maxTime = new Map(partitions.map((p) => [p, Number.NEGATIVE_INFINITY]));
  let wm = Number.NEGATIVE_INFINITY;
  const fixed = new Map<string, OracleWindow>();
  const live: OracleWindow[] = [];
  const closed: OracleWindow[] = [];
  const late: string[] = [];
  const addOnce = (w: OracleWindow, e: AggregationEvent) => {
    if (!w.events.some((x) => x.eventId === e.eventId)) w.events.push(e);
  };
  for (const e of items) {
    if ("tick" in e) continue;
    const tenant = String(e.row.tenant);
    let accepted = false;
    if (config.window.type === "session") {
      const gap = config.window.gapMs;
      const touching = live.filter((s) => s.tenant === tenant && s.start < e.eventTimeMs + gap && e.eventTimeMs < s.end);
      if (touching.length > 0 || wm < e.eventTimeMs + gap + L) {
        accepted = true;
        const merged: OracleWindow = { start: e.eventTimeMs, end: e.eventTimeMs + gap, tenant, events: [] };
        for (const s of touching) {
          merged.start = Math.min(merged.start, s.start);
          merged.end = Math.max(merged.end, s.end);
          for (const x of s.events) addOnce(merged, x);
          live.splice(live.indexOf(s), 1);
        }
        addOnce(merged, e);
        live.push(merged);
      }
    } else {
      const { sizeMs, slideMs } = config.window;
      // Every multiple of slide from well before the earliest event time (windows may start before 0).
      for (let start = -10 * slideMs; start <= e.eventTimeMs; start += slideMs) {
        const end = start + sizeMs;
        if (e.eventTimeMs >= end || wm >= end + L) continue;
        accepted = true;
        const key = `${start}|${end}|${tenant}`;
        if (!fixed.has(key)) fixed.set(key, { start, end, tenant, events: [] });
        addOnce(fixed.get(key)!, e);
      }
    }
    if (!accepted) late.push(`${e.partition}:${e.offset}`);
    maxTime.set(e.partition, Math.max(maxTime.get(e.partition)!, e.eventTimeMs));
    wm = Math.max(wm, Math.min(...[...maxTime.values()].map((t) => t - config.maxOutOfOrdernessMs)));
    for (const s of [...live]) if (wm >= s.end + L) closed.push(...live.splice(live.indexOf(s), 1));
  }
  const windows = new Map<string, Values>();
  for (const w of [...fixed.values(), ...live, ...closed]) windows.set(`${w.start}|${w.end}|${w.tenant}`, valuesOf(w.events));
  return { windows, late: late.sort() };
}

function valuesOf(events: AggregationEvent[]): Values {
  const ns = events.map((e) => e.row.n).filter((n): n is number => typeof n === "number");
  const us = new Set(events.map((e) => e.row.u).filter((u) => u !== null));
  const total = ns.reduce((a, b) => a + b, 0);
  return {
    events: events.length,
    total,
    lo: ns.length ? Math.min(...ns) : null,
    hi: ns.length ? Math.max(...ns) : null,
    mean: ns.length ? total / ns.length : null,
    users: us.size,
    approxUsers: us.size,
  };
}

// ---- running the engine and reading what an upsert table (highest version wins) would hold ----

class UpsertTable {
  readonly rows = new Map<string, { version: number; deleted: boolean; values: Values }>();
  readonly late: string[] = [];
  readonly versionsInOrder = new Map<string, number[]>();

  apply(outputs: Output[]): void {
    for (const o of outputs) {
      if (o.kind === "late") {
        this.late.push(`${o.event.partition}:${o.event.offset}`);
        continue;
      }
      const { windowStart, windowEnd, tenant, version, firing: _f, isDeleted: _d, ...values } = o.row as Values & { version: number };
      const key = `${windowStart}|${windowEnd}|${tenant}`;
      this.versionsInOrder.set(key, [...(this.versionsInOrder.get(key) ?? []), version]);
      const current = this.rows.get(key);
      if (!current || version >= current.version) this.rows.set(key, { version, deleted: o.kind === "retract", values });
    }
  }

  final(): Map<string, Values> {
    return new Map([...this.rows].filter(([, r]) => !r.deleted).map(([k, r]) => [k, r.values]));
  }
}

function run(config: CompiledAggregation, partitions: number[], items: Item[], table: UpsertTable, opts: { resume?: Checkpoint; checkpointAfter?: number; stopAfter?: number } = {}) {
  let now = 0;
  const engine = new AggregationEngine(config, () => now, opts.resume);
  engine.assign(partitions);
  let checkpoint: Checkpoint | undefined;
  const stop = opts.stopAfter ?? items.length;
  for (let i = 0; i < stop; i++) {
    if (i === opts.checkpointAfter) checkpoint = engine.checkpoint();
    const item = items[i]!;
    table.apply("tick" in item ? engine.onTick(++now) : engine.onEvent(item));
  }
  if (stop === opts.checkpointAfter) checkpoint = engine.checkpoint();
  if (opts.stopAfter === undefined) table.apply(engine.finish());
  return { engine, checkpoint };
}

function expectSameWindows(actual: Map<string, Values>, expected: Map<string, Values>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, want] of expected) {
    const got = actual.get(key)!;
    const { approxUsers, ...exact } = got;
    const { approxUsers: wantApprox, ...wantExact } = want;
    expect(exact, key).toEqual(wantExact);
    // HyperLogLog: within three standard errors, and never off by more than one for tiny sets.
    expect(Math.abs((approxUsers as number) - (wantApprox as number)), key).toBeLessThanOrEqual(Math.max(1, 3 * HLL_STANDARD_ERROR * (wantApprox as number)));
  }
}

describe("AggregationEngine against a brute-force oracle", () => {
  it("the last row written for every window and group equals the oracle's value, and too-late events are exactly the oracle's", () => {
    fc.assert(
      fc.property(configArb, streamArb, (config, { partitions, items }) => {
        const table = new UpsertTable();
        run(config, partitions, items, table);
        const want = oracle(config, partitions, items);
        expectSameWindows(table.final(), want.windows);
        expect([...table.late].sort()).toEqual(want.late);
        // Versions only grow for a given window and group, so an upsert keeps the newest.
        for (const [key, versions] of table.versionsInOrder) {
          versions.forEach((v, i) => i > 0 && expect(v, key).toBeGreaterThan(versions[i - 1]!));
        }
      }),
      { numRuns: 200 },
    );
  });

  // Fixed windows only: see the known gap for sessions below.
  it("after a crash, replaying from the committable offsets with a new engine writes the same final values", () => {
    const fixedConfigArb = configArb.filter((c) => c.window.type !== "session");
    const cases = fc.tuple(fixedConfigArb, streamArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }));
    fc.assert(
      fc.property(cases, ([config, { partitions, items }, a, b]) => {
        const crashAt = Math.floor(Math.max(a, b) * items.length);
        const checkpointAt = Math.floor(Math.min(a, b) * items.length);
        const reference = new UpsertTable();
        run(config, partitions, items, reference);

        const table = new UpsertTable();
        const { checkpoint } = run(config, partitions, items, table, { checkpointAfter: checkpointAt, stopAfter: crashAt });
        // What the consumer reads after the restart: each partition from its committed offset, ticks from the checkpoint on.
        const resumeFrom = (p: number) => checkpoint!.partitions[String(p)]?.commitOffset ?? 0;
        const replay = items.filter((item, i) => ("tick" in item ? i >= checkpointAt : item.offset >= resumeFrom(item.partition)));
        run(config, partitions, replay, table, { resume: JSON.parse(JSON.stringify(checkpoint)) as Checkpoint });

        expectSameWindows(table.final(), reference.final());
        expect([...new Set(table.late)].sort()).toEqual([...new Set(reference.late)].sort());
      }),
      { numRuns: 200 },
    );
  });

  // Known gap: a replayed event whose own session is too late under the restored
  // watermark is skipped, even when later replayed events would have merged it into a
  // session still open. Here e (t=0) and f (t=5) form [0,15); the checkpoint is taken at
  // watermark 12; the replay skips e and writes a phantom [5,15) with one event.
  // Fixing it needs session bounds in the checkpoint or a two-phase replay.
  it.fails("known gap: replaying a session window rebuilds it from all its events", () => {
    const config: CompiledAggregation = { window: { type: "session", gapMs: 10 }, maxOutOfOrdernessMs: 0, idleTimeoutMs: 1e15, allowedLatenessMs: 0, earlyFiringsMs: undefined, groupBy: ["tenant"], measures: MEASURES };
    const items: Item[] = [
      { partition: 0, offset: 0, eventId: "e", eventTimeMs: 0, row: { tenant: "a", n: 1, u: null } },
      { partition: 0, offset: 1, eventId: "f", eventTimeMs: 5, row: { tenant: "a", n: 1, u: null } },
      { partition: 0, offset: 2, eventId: "g", eventTimeMs: 12, row: { tenant: "b", n: 1, u: null } },
    ];
    const reference = new UpsertTable();
    run(config, [0], items, reference);
    const table = new UpsertTable();
    const { checkpoint } = run(config, [0], items, table, { checkpointAfter: 3, stopAfter: 3 });
    run(config, [0], items.filter((i) => !("tick" in i) && i.offset >= checkpoint!.partitions["0"]!.commitOffset), table, { resume: checkpoint });
    expectSameWindows(table.final(), reference.final());
  });
});
