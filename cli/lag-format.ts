/** `sluice lag` as text: per group a summary line, a partition table and its members. */
import type { GroupMember } from "../runtime/kafka/port.js";
import type { GroupLag } from "./lag-observe.js";

export function formatLagText(groups: GroupLag[]): string {
  return groups.map(formatGroup).join("\n");
}

function formatGroup(g: GroupLag): string {
  const head = g.kind === "group" ? `group ${g.groupId}  (topic ${g.topic})` : `${g.kind} ${g.name}  (group ${g.groupId}, topic ${g.topic})`;
  if (g.error) return `${head}\n  error: ${g.error}\n`;
  const lines = [head, `  state ${g.state}, ${plural(g.members.length, "member")}; lag ${plural(g.lag.messages, "message")}, ${seconds(g.lag.seconds, g.lag.messages)}`];
  const name = memberNames(g.members);
  lines.push(
    ...table([
      ["PARTITION", "COMMITTED", "POSITION", "END", "LAG", "LAG(S)", "MEMBER"],
      ...g.partitions.map((p) => [String(p.partition), p.committed ?? "-", p.position, p.end, String(p.lag), p.lagSeconds === null ? "?" : p.lagSeconds.toFixed(1), p.member ? (name.get(p.member) ?? p.member) : "-"]),
    ]).map((l) => `  ${l}`),
  );
  const unknown = g.partitions.filter((p) => p.lagSecondsUnknown);
  if (unknown.length > 0) lines.push(`  lag in seconds unknown for partition ${unknown.map((p) => `${p.partition}: ${p.lagSecondsUnknown}`).join("; ")}`);
  if (g.members.length > 0) {
    lines.push("  members:");
    lines.push(...table(g.members.map((m) => [name.get(m.memberId)!, m.host, Object.entries(m.assignment).map(([t, ps]) => `${t}[${ps.join(",")}]`).join(" ") || "(none assigned)"])).map((l) => `    ${l}`));
  }
  return `${lines.join("\n")}\n`;
}

function seconds(s: number | null, messages: number): string {
  if (messages === 0) return "caught up";
  return s === null ? "age unknown" : `oldest unconsumed record ${s.toFixed(1)} s old`;
}

/** client id and host name a member; the member id (a long UUID) only tells two apart. */
function memberNames(members: GroupMember[]): Map<string, string> {
  return new Map(members.map((m) => [m.memberId, members.filter((o) => o.clientId === m.clientId).length > 1 ? `${m.clientId} (${m.memberId.slice(-8)})` : m.clientId]));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  "));
}
