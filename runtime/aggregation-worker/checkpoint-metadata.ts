/**
 * The engine's Checkpoint split into Kafka's per-partition commit metadata and joined back.
 * Committing offsets and checkpoint in one request keeps them consistent without a state
 * store: whoever owns a partition next reads both with admin.fetchOffsets. Every field is
 * the partition's own (decisions depend on nothing else, see aggregate/engine.ts), so
 * partitions committed by different owners at different times still resume exactly.
 *
 * One partition's metadata: {"v":2,"n":nextOffset,"m":maxEventTime|null,"x":finalMaxEventTime|null}
 * where m is the newest event time before the committed offset (the replay's starting
 * state) and x the newest before n, capped where windows closed when groups may span
 * partitions (windows final by it were written in full: aggregate/engine.ts). The read
 * position "n" is also what the autoscaler measures lag from. Kafka's default limit is 4 KiB.
 */
import type { Checkpoint } from "../aggregate/engine.js";

interface PartitionMetadata {
  v: 2;
  n: number;
  m: number | null;
  x: number | null;
}

/** Offsets and metadata to commit, one entry per partition. */
export function checkpointCommits(cp: Checkpoint): { partition: number; offset: number; metadata: string }[] {
  return Object.entries(cp.partitions).map(([p, c]) => {
    const meta: PartitionMetadata = { v: 2, n: c.nextOffset, m: c.maxEventTimeMs, x: c.finalMaxEventTimeMs };
    return { partition: Number(p), offset: c.commitOffset, metadata: JSON.stringify(meta) };
  });
}

export interface CommittedPartition {
  partition: number;
  /** -1: never committed. */
  offset: number;
  metadata: string | null | undefined;
}

/** The checkpoint to resume from, or undefined when no partition was ever committed (a new group). */
export function checkpointFromCommits(committed: readonly CommittedPartition[]): Checkpoint | undefined {
  const partitions: Checkpoint["partitions"] = {};
  for (const c of committed) {
    if (c.offset < 0) continue;
    const meta = parse(c.metadata);
    // Committed without a checkpoint (e.g. by a tool, or by a version-1 worker whose
    // maxima were not taken at the commit): resume there with no event-time state.
    partitions[String(c.partition)] = meta
      ? { commitOffset: c.offset, nextOffset: Math.max(meta.n, c.offset), maxEventTimeMs: meta.m, finalMaxEventTimeMs: meta.x }
      : { commitOffset: c.offset, nextOffset: c.offset, maxEventTimeMs: null, finalMaxEventTimeMs: null };
  }
  return Object.keys(partitions).length === 0 ? undefined : { partitions };
}

function parse(metadata: string | null | undefined): PartitionMetadata | undefined {
  if (!metadata) return undefined;
  try {
    const m = JSON.parse(metadata) as Partial<PartitionMetadata>;
    const numOrNull = (x: unknown) => x === null || (typeof x === "number" && Number.isFinite(x));
    if (m.v !== 2 || typeof m.n !== "number" || !numOrNull(m.m) || !numOrNull(m.x)) return undefined;
    return m as PartitionMetadata;
  } catch {
    return undefined;
  }
}
