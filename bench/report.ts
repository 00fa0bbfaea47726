/**
 * One figure per row: a value, the baseline measured in the same run, and their ratio.
 * Absolute figures move with whatever else the shared 2-core machine is doing; the
 * ratios are the comparable part.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface Figure {
  bench: string;
  metric: string;
  unit: string;
  value: number | null;
  baseline: string;
  baselineValue: number | null;
  /** value / baselineValue. */
  ratio: number | null;
  note?: string;
}

export function figure(f: Omit<Figure, "ratio">): Figure {
  const ratio = f.value !== null && f.baselineValue !== null && f.baselineValue !== 0 ? f.value / f.baselineValue : null;
  return { ...f, ratio };
}

const fmt = (n: number | null, digits = 0) => (n === null ? "n/a" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));

export function printTable(unsorted: Figure[]): void {
  // Grouped by benchmark number (stable: the order within a benchmark is kept).
  const figures = [...unsorted].sort((a, b) => parseInt(a.bench, 10) - parseInt(b.bench, 10));
  const rows = figures.map((f) => [
    f.bench,
    f.metric,
    `${fmt(f.value, f.value !== null && Math.abs(f.value) < 100 ? 2 : 0)} ${f.unit}`,
    `${f.baseline}: ${fmt(f.baselineValue, f.baselineValue !== null && Math.abs(f.baselineValue) < 100 ? 2 : 0)}`,
    f.ratio === null ? "n/a" : `${f.ratio.toFixed(2)}x`,
  ]);
  const head = ["benchmark", "metric", "value", "baseline (same run)", "ratio"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ");
  console.log("\n" + line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const r of rows) console.log(line(r));
  const notes = figures.filter((f) => f.note);
  if (notes.length > 0) console.log("\nnotes:\n" + notes.map((f) => `  ${f.bench} / ${f.metric}: ${f.note}`).join("\n"));
}

export function writeResults(file: string, body: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(body, null, 2) + "\n");
}
