/**
 * What `sluice replay` would do to one consumer group on one topic, decided from numbers
 * alone (committed offsets and metadata, watermarks, the resolved --from): per partition
 * the new offset and how many records are read again, and every reason to refuse. No I/O,
 * so every rule is unit-tested (replay-plan.test.ts); replay-command.ts reads the numbers
 * from Kafka and commits what the plan says.
 *
 * Why the rules:
 * - Sinks are idempotent over a re-read: rows keep their event id, and the table is a
 *   ReplacingMergeTree ending its key with it, so re-reading only adds copies that FINAL and
 *   uniqExact(event_id) collapse. Skipping forward is the one thing that loses events.
 * - Aggregations are not: a row is a window's full value computed from the events read since
 *   the restart point, with the event-time state of the checkpoint committed there. Kafka
 *   keeps only the latest commit, so no checkpoint exists for an earlier offset; committed
 *   with no metadata, the engine resumes "with no event-time state" (checkpointFromCommits).
 *   That is exactly the state at the very first record, and nowhere else: from any later
 *   offset, records that were too late the first time would be counted in windows that were
 *   already final, and windows begun before the restart point would be rebuilt from part of
 *   their events. Versions (2 x events counted) keep a partial row from replacing a full one,
 *   but a window that gains more wrongly counted late events than it lost wins with a wrong
 *   value, and a partial session has another (start, end) key: an extra row nothing replaces.
 *   So an Aggregation is replayed only as a full recompute: offset 0 of every partition, with
 *   nothing deleted by retention, every partition's checkpoint dropped.
 */
import type { StartPosition } from "./start-position.js";

export interface PartitionFacts {
  partition: number;
  /** The committed offset; -1 when the group never committed on the partition. */
  committed: number;
  metadata: string | null;
  low: number;
  high: number;
  /** Where --from points: for a time, the offset Kafka found for it; unused for earliest/latest/offset. */
  offsetForTime?: number;
}

export interface PlanInput {
  /** Aggregation rules (full recompute only) apply. */
  aggregation: boolean;
  from: StartPosition;
  /** Start a partition whose target was deleted by retention (or is past its end) at the nearest kept offset. */
  clamp: boolean;
  /** Allow moving forward past records the group has not read. */
  allowSkip: boolean;
  partitions: PartitionFacts[];
}

export interface PartitionPlan {
  partition: number;
  committed: number | null;
  /** Where the group resumes now (an Aggregation: as far as its checkpoint says it read). */
  position: number;
  newOffset: number;
  low: number;
  end: number;
  /** Records the group had read that it will read again. */
  reRead: number;
  /** Records it had not read that it will never read (only with --allow-skip). */
  skipped: number;
  /** Records from the new offset to the end offset. */
  toRead: number;
  /** Whether the partition's commit is rewritten. */
  change: boolean;
}

export interface Refusal {
  /** Absent: the refusal concerns the whole group. */
  partition?: number;
  rule: "deleted-by-retention" | "past-end" | "skips-records" | "aggregation-not-from-start";
  reason: string;
  hint: string;
}

export interface ReplayPlan {
  partitions: PartitionPlan[];
  totals: { reRead: number; skipped: number; toRead: number; changed: number };
  refusals: Refusal[];
  notes: string[];
  /** What to commit: with no metadata (a sink's intent or an aggregation's checkpoint is dropped). */
  commits: { partition: number; offset: number }[];
}

const CLAMP_HINT = "pass --clamp to start such partitions at their oldest kept record (what is already deleted cannot be re-read), or choose a later --from";

export function planReplay(input: PlanInput): ReplayPlan {
  const refusals: Refusal[] = [];
  const notes: string[] = [];
  const partitions = [...input.partitions].sort((a, b) => a.partition - b.partition).map((f) => planPartition(f, input, refusals, notes));
  if (input.aggregation) refuseUnlessFullRecompute(partitions, input.partitions, refusals);
  const changed = partitions.filter((p) => p.change);
  if (changed.length > 0 && refusals.length === 0) notes.push(...sideEffects(input.aggregation));
  return {
    partitions,
    totals: {
      reRead: sum(partitions, (p) => p.reRead),
      skipped: sum(partitions, (p) => p.skipped),
      toRead: sum(partitions, (p) => p.toRead),
      changed: changed.length,
    },
    refusals,
    notes,
    commits: refusals.length > 0 ? [] : changed.map((p) => ({ partition: p.partition, offset: p.newOffset })),
  };
}

function planPartition(f: PartitionFacts, input: PlanInput, refusals: Refusal[], notes: string[]): PartitionPlan {
  const { partition, low, high } = f;
  const target = targetOffset(f, input.from);
  let newOffset = target;
  if (target < low) {
    if (input.clamp) {
      newOffset = low;
      notes.push(`partition ${partition}: ${describeTarget(input.from, target)} was deleted by retention; starting at the oldest kept record, ${low} (--clamp)`);
    } else {
      refusals.push({
        partition,
        rule: "deleted-by-retention",
        reason: `partition ${partition}: ${describeTarget(input.from, target)} was deleted by retention (the oldest record kept is at offset ${low})`,
        hint: CLAMP_HINT,
      });
    }
  } else if (target > high) {
    if (input.clamp) {
      newOffset = high;
      notes.push(`partition ${partition}: offset ${target} is past the end, ${high}; using the end (--clamp)`);
    } else {
      refusals.push({ partition, rule: "past-end", reason: `partition ${partition}: offset ${target} is past the end of the partition (${high})`, hint: "choose an offset at or below each partition's end (sluice lag shows them), or pass --clamp" });
    }
  }
  // The group resumes at its commit; never committed, or committed below what retention
  // kept, a consumer starts at the oldest kept record (auto.offset.reset=earliest).
  const resumesAt = Math.min(Math.max(f.committed, low), high);
  const readUpTo = input.aggregation ? Math.max(resumesAt, Math.min(checkpointRead(f.committed, f.metadata), high)) : resumesAt;
  if (f.committed >= 0 && f.committed < low) {
    notes.push(`partition ${partition}: the committed offset ${f.committed} is below the oldest kept record (${low}): records ${f.committed}..${low - 1} were deleted by retention before the group read them`);
  }
  const skipped = Math.max(0, newOffset - resumesAt);
  if (skipped > 0 && !input.allowSkip) {
    refusals.push({
      partition,
      rule: "skips-records",
      reason: `partition ${partition}: moving from ${resumesAt} forward to ${newOffset} would skip ${skipped} record${skipped === 1 ? "" : "s"} (${resumesAt}..${newOffset - 1}) the group has not read: their events would never reach the table`,
      hint: "replay is for re-reading: choose a --from at or before the committed offsets (sluice lag shows them), or pass --allow-skip to drop those records on purpose",
    });
  }
  // An Aggregation's checkpoint is dropped even where the offset stays: a full recompute
  // needs every partition without event-time state.
  const change = newOffset !== f.committed || (input.aggregation && f.metadata !== null && f.metadata !== "");
  return {
    partition,
    committed: f.committed >= 0 ? f.committed : null,
    position: readUpTo,
    newOffset,
    low,
    end: high,
    reRead: Math.max(0, readUpTo - newOffset),
    skipped,
    toRead: Math.max(0, high - newOffset),
    change,
  };
}

function targetOffset(f: PartitionFacts, from: StartPosition): number {
  switch (from.kind) {
    case "earliest":
      return f.low;
    case "latest":
      return f.high;
    case "offset":
      return Number(from.offset);
    case "time":
      if (f.offsetForTime === undefined) throw new Error(`no offset for time on partition ${f.partition}`);
      // Kafka answers the oldest kept record when every kept one is newer than the time;
      // if retention deleted records before it, some of those may have been newer too.
      return f.offsetForTime === f.low && f.low > 0 ? f.low - 1 : f.offsetForTime;
  }
}

function describeTarget(from: StartPosition, target: number): string {
  if (from.kind === "time") return `the start at ${new Date(from.ms).toISOString()} (before the oldest kept record, offset ${target + 1})`;
  return `offset ${target}`;
}

/** Where an Aggregation's checkpoint says it has read ("n"), as the autoscaler and `sluice lag` count it. */
function checkpointRead(committed: number, metadata: string | null): number {
  if (committed < 0 || !metadata?.startsWith("{")) return committed;
  try {
    const n = (JSON.parse(metadata) as { n?: unknown }).n;
    return typeof n === "number" && Number.isFinite(n) && n > committed ? n : committed;
  } catch {
    return committed;
  }
}

function refuseUnlessFullRecompute(plans: PartitionPlan[], facts: PartitionFacts[], refusals: Refusal[]): void {
  if (!plans.some((p) => p.change)) return;
  const offStart = plans.filter((p) => p.newOffset !== 0).map((p) => `partition ${p.partition} would start at offset ${p.newOffset}`);
  const deleted = facts.filter((f) => f.low > 0).map((f) => `${f.partition} (oldest kept offset ${f.low})`);
  if (offStart.length === 0 && deleted.length === 0) return;
  const where = [
    offStart.length > 0 ? offStart.join(", ") : "",
    deleted.length > 0 ? `retention deleted the first records of partition ${deleted.join(", ")}` : "",
  ].filter(Boolean).join("; ");
  refusals.push({
    rule: "aggregation-not-from-start",
    reason:
      `an Aggregation is replayed only from the first record of every partition (${where}). ` +
      "Its rows are whole-window values, and Kafka keeps only its latest checkpoint (the event-time state in the commit metadata), " +
      "so a replay from a later offset starts with no event-time state: events that were too late the first time would be counted " +
      "in windows that were already final, and windows begun before the start would be rebuilt from part of their events. " +
      "Versions keep such a partial row from replacing a full one, but a window that gains more wrongly counted late events than it " +
      "lost would win with a wrong value, and a partial session has other (start, end) keys, so it would stay as an extra row",
    hint:
      deleted.length > 0
        ? "the topic no longer holds every record, so the table cannot be recomputed from Kafka: its rows are the only complete values. Recompute them in ClickHouse from a Sink's raw table (INSERT INTO <aggregate table> SELECT ... FROM <raw table> FINAL GROUP BY ...) instead"
        : "replay with --from earliest: every partition restarts at offset 0 with no checkpoint, and the engine recomputes every window from all of its events, writing the same versions (the table converges to the exact values)",
  });
}

/** What a re-read writes again besides the table rows, so nobody is surprised by it. */
function sideEffects(aggregation: boolean): string[] {
  if (!aggregation) {
    return ["re-read records that are poison (invalid events) are dead-lettered again by a Sink: its dead-letter topic will hold them twice"];
  }
  return [
    "every partition restarts without its checkpoint: every window is recomputed from all its events with the same versions, so the rows converge to the exact values (read them with FINAL WHERE is_deleted = 0)",
    "late events and dead letters of re-read records are written again: the late table collapses them by event id (read it with FINAL); a late topic and the dead-letter topic will hold them twice",
  ];
}

function sum<T>(xs: T[], f: (x: T) => number): number {
  return xs.reduce((n, x) => n + f(x), 0);
}
