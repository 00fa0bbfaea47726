/**
 * `sluice top` as text: a heading, then a table with one line per stream (the rate it
 * accepts) and, indented under it, one line per Sink and Aggregation reading it, then
 * notes (a pipeline's error, a metrics URL that did not answer). Pure, so the live screen
 * and the one-shot snapshot print the same thing; "-" is a value not known (yet).
 */
import type { TopRow, TopSnapshot } from "./top-snapshot.js";

export interface RenderContext {
  namespace: string;
  intervalMs: number;
  /** Where the rows come from (the manifests, or a cluster context). */
  source: string;
  /** Live on a terminal: say how to quit. */
  live: boolean;
  /** No metrics URL to scrape (a cluster without --metrics): rates come from Kafka alone. */
  noMetrics?: boolean;
  /** Cut lines to this width (the terminal's). */
  width?: number;
}

export const COLUMNS = ["STREAM / PIPELINE", "IN/s", "WRITTEN/s", "LAG", "LAG(s)", "FRESH p99", "DLQ/s", "REPLICAS", "WM LAG"] as const;

export function renderTop(s: TopSnapshot, c: RenderContext): string[] {
  const time = s.at.slice(11, 19);
  const over = s.windowSeconds === null ? "measuring: rates after the next refresh" : `rates over ${s.windowSeconds.toFixed(1)} s`;
  const window = c.noMetrics ? `${over} from Kafka offsets (no --metrics)` : over;
  const head = `sluice top  ${c.source}  namespace ${c.namespace}  every ${formatInterval(c.intervalMs)}  ${time} UTC  ${window}${c.live ? "  (q quits)" : ""}`;
  const rows: string[][] = [[...COLUMNS]];
  for (const st of s.streams) {
    rows.push([`${st.name} (${st.topic})`, rate(st.ratePerSecond), "", "", "", "", "", "", ""]);
    for (const p of st.pipelines) rows.push(pipelineCells(p));
    if (st.pipelines.length === 0) rows.push(["  (no Sink or Aggregation)", "", "", "", "", "", "", "", ""]);
  }
  const notes = [
    ...s.streams.flatMap((st) => st.pipelines.filter((p) => p.error).map((p) => `${p.kind} ${p.name}: ${p.error}`)),
    ...s.notes,
  ];
  const lines = [head, "", ...table(rows), ...(notes.length > 0 ? ["", ...notes] : [])];
  return c.width ? lines.map((l) => (l.length > c.width! ? l.slice(0, c.width) : l)) : lines;
}

function pipelineCells(p: TopRow): string[] {
  const freshness = p.freshnessP99Seconds === null ? "-" : `${p.freshnessAboveBuckets ? ">" : ""}${seconds(p.freshnessP99Seconds)}`;
  const replicas = p.replicas === null ? "-" : `${p.replicas.current ?? "?"}${p.replicas.desired !== null && p.replicas.desired !== p.replicas.current ? `->${p.replicas.desired}` : ""}`;
  return [
    `  ${p.kind === "Sink" ? "sink" : "agg"} ${p.name}`,
    "",
    rate(p.ratePerSecond),
    p.lagMessages === null ? "-" : String(p.lagMessages),
    p.lagSeconds === null ? (p.lagMessages === null ? "-" : "?") : seconds(p.lagSeconds),
    freshness,
    rate(p.deadLettersPerSecond),
    replicas,
    p.kind === "Aggregation" ? (p.watermarkLagSeconds === null ? "-" : seconds(p.watermarkLagSeconds)) : "",
  ];
}

/** Events per second: one decimal while small, thousands as k. */
export function rate(n: number | null): string {
  if (n === null) return "-";
  if (n >= 10_000) return `${(n / 1000).toFixed(1)}k`;
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

export function seconds(s: number): string {
  if (s < 10) return `${s.toFixed(2)}s`;
  if (s < 120) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
}

function formatInterval(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** First column left-aligned, numbers right-aligned under their heading. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ").trimEnd());
}
