/**
 * What the sink holds for one owned partition: records fetched but not yet in a batch,
 * the batch being written, and where the next batch starts.
 */
import type { SourceRecord } from "./decode.js";
import { RECORD_OVERHEAD_BYTES } from "./memory-budget.js";
import type { Intent } from "./offset-intent.js";

export interface BufferedRecord extends SourceRecord {
  bytes: number;
  /** When the sink received it (for maxDelay), not the Kafka timestamp. */
  arrivedAt: number;
}

export interface PartitionState {
  partition: number;
  buffer: BufferedRecord[];
  bufferedBytes: number;
  /** Memory cost (memory-budget.ts) of the batch being written, 0 when none. */
  inflightCost: number;
  /** Records below this offset were already taken (the consumer refetches from the committed offset after a rebalance). */
  nextOffset: number;
  /** Where the next batch starts: the committed offset, then each batch's end. Undefined: no commit yet. */
  batchStart?: number;
  /** End of a batch a previous owner started (offset-intent.ts): the first batch ends exactly here. */
  boundary?: number;
  /** With `boundary`: the group of the combined insert the previous owner wrote that batch in. */
  boundaryGroup?: string;
  /** Last committed offset, for lag. */
  committed: number;
  highWatermark: number;
  /** Kafka timestamp of the first record of the batch in flight. */
  inflightSinceMs?: number;
  flushing?: Promise<void>;
  /** Set while the batch in flight is part of a combined insert with other partitions' batches. */
  combined?: CombinedWrite;
  /** Set while a partial batch waits for its maxDelay: fires when the oldest record's wait is up. */
  dueTimer?: NodeJS.Timeout;
  paused: boolean;
  revoked: boolean;
}

/** A combined insert in flight: its partitions, and how to stop it when they are revoked. */
export interface CombinedWrite {
  members: PartitionState[];
  abort: AbortController;
}

export function newPartitionState(partition: number, committed: number, intent: Intent | undefined): PartitionState {
  const hasCommit = committed >= 0;
  return {
    partition,
    buffer: [],
    bufferedBytes: 0,
    inflightCost: 0,
    nextOffset: hasCommit ? committed : 0,
    batchStart: hasCommit ? committed : undefined,
    boundary: intent?.end,
    boundaryGroup: intent?.group,
    committed: hasCommit ? committed : 0,
    highWatermark: 0,
    paused: false,
    revoked: false,
  };
}

/** What the partition holds against the worker's memory budget: buffered and in flight. */
export function heldCost(s: PartitionState): number {
  return s.bufferedBytes + s.buffer.length * RECORD_OVERHEAD_BYTES + s.inflightCost;
}

/** Buffered beyond two batches while one is being written: stop fetching (backpressure). */
export function overLimit(s: PartitionState, limits: { maxRows: number; maxBytes: number }): boolean {
  return s.buffer.length >= 2 * limits.maxRows || s.bufferedBytes >= 2 * limits.maxBytes;
}
