/**
 * The engine's Checkpoint split into Kafka's per-partition commit metadata and joined back.
 * Committing offsets and checkpoint in one request keeps them consistent without a state
 * store: whoever owns a partition next reads both with admin.fetchOffsets.
 *
 * One partition's metadata: {"v":1,"w":watermark|null,"n":nextOffset,"m":maxEventTime|null}
 * where w is the watermark that partition's events were judged by (tumbling/sliding; the
 * resume watermark for sessions)
 * plus, for session windows, "f":finalWatermark|null (the commit offset is the committed
 * offset itself). Kafka's default limit is 4 KiB.
 */
import type { Checkpoint } from "../aggregate/engine.js";

interface PartitionMetadata {
  v: 1;
  w: number | null;
  n: number;
  m: number | null;
  f?: number | null;
}

/** Offsets and metadata to commit, one entry per partition. */
export function checkpointCommits(cp: Checkpoint): { partition: number; offset: number; metadata: string }[] {
  return Object.entries(cp.partitions).map(([p, x]) => {
    const meta: PartitionMetadata = { v: 1, w: x.watermarkMs ?? cp.watermarkMs, n: x.nextOffset, m: x.maxEventTimeMs };
    if (cp.finalWatermarkMs !== undefined) meta.f = cp.finalWatermarkMs;
    return { partition: Number(p), offset: x.commitOffset, metadata: JSON.stringify(meta) };
  });
}

export interface CommittedPartition {
  partition: number;
  /** -1: never committed. */
  offset: number;
  metadata: string | null | undefined;
}

/**
 * The checkpoint to resume from, or undefined when no partition carries one (a new group).
 * Partitions are committed together, but a commit may have been cut short or made by an
 * older owner: the lowest watermark is the safe one (a lower watermark only rebuilds more,
 * and rows rebuilt from fewer events carry lower versions, so they never win).
 */
export function checkpointFromCommits(committed: readonly CommittedPartition[]): Checkpoint | undefined {
  const partitions: Checkpoint["partitions"] = {};
  let watermark: number | null | undefined;
  // Sessions: partitions that disagree (committed by different owners) have no exact cut;
  // the lowest final watermark may let a final session be rewritten in part, but never
  // hides one still open.
  let final: number | null | undefined;
  for (const c of committed) {
    if (c.offset < 0) continue;
    const meta = parse(c.metadata);
    if (!meta) {
      // Committed without a checkpoint (e.g. by a tool): resume there, no watermark state.
      partitions[String(c.partition)] = { commitOffset: c.offset, nextOffset: c.offset, maxEventTimeMs: null };
      watermark = null;
      continue;
    }
    // Each partition keeps the watermark its events were judged by; the engine resumes with
    // the lowest (below) and never judges a partition's events by less than its own.
    partitions[String(c.partition)] = { commitOffset: c.offset, nextOffset: Math.max(meta.n, c.offset), maxEventTimeMs: meta.m, ...(meta.f === undefined && { watermarkMs: meta.w }) };
    if (watermark === undefined) watermark = meta.w;
    else if (watermark !== null) watermark = meta.w === null ? null : Math.min(watermark, meta.w);
    if (meta.f !== undefined) final = final === undefined ? meta.f : final === null || meta.f === null ? null : Math.min(final, meta.f);
  }
  if (Object.keys(partitions).length === 0) return undefined;
  const cp: Checkpoint = { watermarkMs: watermark ?? null, partitions };
  if (final !== undefined) cp.finalWatermarkMs = final;
  return cp;
}

function parse(metadata: string | null | undefined): PartitionMetadata | undefined {
  if (!metadata) return undefined;
  try {
    const m = JSON.parse(metadata) as Partial<PartitionMetadata>;
    const numOrNull = (x: unknown) => x === null || (typeof x === "number" && Number.isFinite(x));
    if (m.v !== 1 || typeof m.n !== "number" || !numOrNull(m.w) || !numOrNull(m.m) || (m.f !== undefined && !numOrNull(m.f))) return undefined;
    return m as PartitionMetadata;
  } catch {
    return undefined;
  }
}
