/** `sluice replay` as text: the group, a partition table of old -> new offsets, totals and notes. */
import type { ReplayPlan } from "./replay-plan.js";

export interface PlanHeading {
  kind: "Sink" | "Aggregation" | "group";
  name: string;
  groupId: string;
  topic: string;
  from: string;
  /** For a time or duration: the instant it resolved to. */
  fromTime?: string;
  state: string;
  members: number;
}

export function formatPlanText(h: PlanHeading, plan: ReplayPlan): string {
  const head = h.kind === "group" ? `group ${h.groupId}  (topic ${h.topic})` : `${h.kind} ${h.name}  (group ${h.groupId}, topic ${h.topic})`;
  const from = h.fromTime ? `${h.from} (the first record timestamped at or after ${h.fromTime} on each partition)` : h.from;
  const lines = [head, `  replay from ${from}; group state ${h.state}, ${plural(h.members, "member")}`];
  lines.push(
    ...table([
      ["PARTITION", "COMMITTED", "POSITION", "NEW", "RE-READ", "LOW", "END"],
      ...plan.partitions.map((p) => [String(p.partition), p.committed === null ? "-" : String(p.committed), String(p.position), p.change ? String(p.newOffset) : `${p.newOffset} (unchanged)`, String(p.reRead), String(p.low), String(p.end)]),
    ]).map((l) => `  ${l}`),
  );
  const t = plan.totals;
  lines.push(
    `  total: ${plural(t.reRead, "message")} re-read on ${plural(t.changed, "partition")} reset; ${t.toRead} to read up to the end offsets${t.skipped > 0 ? `; ${t.skipped} SKIPPED (--allow-skip)` : ""}`,
  );
  for (const n of plan.notes) lines.push(`  note: ${n}`);
  return `${lines.join("\n")}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd());
}
