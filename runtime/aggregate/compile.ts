/**
 * Compiles an Aggregation spec once into milliseconds and explicit defaults, so the engine
 * never parses a duration or handles "unset" on the hot path.
 */
import type { AggregationSpec, MEASURE_FNS } from "../../api/aggregation.js";
import { parseDuration } from "../../api/duration.js";

export type MeasureFn = (typeof MEASURE_FNS)[number];

export interface CompiledMeasure {
  name: string;
  fn: MeasureFn;
  /** The input field; undefined only for count. */
  field: string | undefined;
}

export type CompiledWindow =
  | { type: "tumbling" | "sliding"; sizeMs: number; slideMs: number }
  | { type: "session"; gapMs: number };

export interface CompiledAggregation {
  window: CompiledWindow;
  maxOutOfOrdernessMs: number;
  idleTimeoutMs: number;
  allowedLatenessMs: number;
  /** undefined: results are emitted only when a window closes (and on late corrections). */
  earlyFiringsMs: number | undefined;
  groupBy: string[];
  measures: CompiledMeasure[];
  /**
   * The stream is keyed by a group-by field, so each group's events come from one partition:
   * a window's state may go once the partitions that fed it have moved past it, instead of
   * waiting for every owned partition (see engine.ts).
   */
  groupsInOnePartition?: boolean;
}

/** Output columns the engine writes besides group-by fields and measures. */
export const RESERVED_COLUMNS = ["windowStart", "windowEnd", "version", "firing", "isDeleted"] as const;

type CompilableSpec = Pick<AggregationSpec, "window" | "watermark" | "allowedLateness" | "earlyFirings" | "groupBy" | "measures">;

export function compileAggregation(spec: CompilableSpec): CompiledAggregation {
  const measures = spec.measures.map((m) => ({ name: m.name, fn: m.fn, field: m.fn === "count" ? undefined : m.field }));
  for (const m of measures) {
    if (m.fn !== "count" && m.field === undefined) throw new Error(`measure "${m.name}" (${m.fn}) needs a field`);
  }
  refuseColumnClashes(spec.groupBy, measures);
  return {
    window: compileWindow(spec.window),
    maxOutOfOrdernessMs: parseDuration(spec.watermark.maxOutOfOrderness),
    idleTimeoutMs: parseDuration(spec.watermark.idleTimeout),
    allowedLatenessMs: parseDuration(spec.allowedLateness),
    earlyFiringsMs: spec.earlyFirings === undefined ? undefined : positive("earlyFirings", parseDuration(spec.earlyFirings)),
    groupBy: [...spec.groupBy],
    measures,
  };
}

function compileWindow(w: CompilableSpec["window"]): CompiledWindow {
  if (w.type === "session") return { type: "session", gapMs: positive("window.gap", parseDuration(required("window.gap", w.gap))) };
  const sizeMs = positive("window.size", parseDuration(required("window.size", w.size)));
  if (w.type === "tumbling") return { type: "tumbling", sizeMs, slideMs: sizeMs };
  const slideMs = positive("window.slide", parseDuration(required("window.slide", w.slide)));
  if (slideMs > sizeMs) throw new Error("window.slide must be no larger than window.size");
  return { type: "sliding", sizeMs, slideMs };
}

// One output row holds window bounds, group values and measures side by side: a shared
// name would silently overwrite a column, so it is refused here rather than in ClickHouse.
function refuseColumnClashes(groupBy: string[], measures: CompiledMeasure[]): void {
  const seen = new Set<string>(RESERVED_COLUMNS);
  for (const name of [...groupBy, ...measures.map((m) => m.name)]) {
    if (seen.has(name)) throw new Error(`output column "${name}" is used twice (group-by fields, measure names and ${RESERVED_COLUMNS.join(", ")} must differ)`);
    seen.add(name);
  }
}

function required(what: string, v: string | undefined): string {
  if (v === undefined) throw new Error(`${what} is required`);
  return v;
}

function positive(what: string, ms: number): number {
  if (!(ms > 0) || !Number.isFinite(ms)) throw new Error(`${what} must be a positive, finite duration`);
  return ms;
}
