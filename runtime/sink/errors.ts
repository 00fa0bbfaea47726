/** Sink errors, each saying whether waiting and retrying can fix it. */

export abstract class SinkError extends Error {
  abstract readonly retriable: boolean;
}

export interface PartitionGap {
  partition: number;
  committedOffset: number;
  lowWatermark: number;
}

/**
 * The group's committed offset points at records Kafka already deleted (retention ran
 * while the sink was down). Resetting would silently lose `lowWatermark - committed`
 * records, so the sink stops and a human decides.
 */
export class RetentionGapError extends SinkError {
  readonly retriable = false;
  constructor(readonly topic: string, readonly gaps: PartitionGap[]) {
    super(
      `committed offsets of topic ${topic} are below the retained log; refusing to skip: ` +
        gaps.map(describeGap).join("; "),
    );
  }
}

function describeGap(g: PartitionGap): string {
  if (g.committedOffset < 0) {
    // A client that answered OFFSET_OUT_OF_RANGE by committing "earliest" (-2) itself erased
    // the old position: the gap is certain, its size is not.
    return `partition ${g.partition} committed offset was reset to ${g.committedOffset} (earliest) by a client after an out-of-range fetch; low watermark ${g.lowWatermark}, records lost to retention unknown`;
  }
  return `partition ${g.partition} committed ${g.committedOffset} < low watermark ${g.lowWatermark} (${g.lowWatermark - g.committedOffset} records lost to retention)`;
}

/** ClickHouse refused a batch in a way that retrying does not fix (e.g. the table's types changed). */
export class InsertRejectedError extends SinkError {
  readonly retriable = false;
  constructor(readonly partition: number, readonly offsets: string, cause: unknown) {
    super(`ClickHouse keeps rejecting the batch of partition ${partition} offsets ${offsets}: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

/**
 * Whether a ClickHouse error may pass by itself: connection failures, timeouts, server
 * overload. Parse and schema errors (bad SQL, unknown column, type mismatch) do not.
 */
export function isRetriableClickHouseError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  const msg = String(e?.message ?? err);
  const nonRetriableCodes = new Set(["16", "26", "27", "38", "41", "44", "47", "53", "60", "62", "70", "81", "117", "349"]);
  if (e?.code && nonRetriableCodes.has(String(e.code))) return false;
  const m = /Code: (\d+)/.exec(msg);
  if (m && nonRetriableCodes.has(m[1]!)) return false;
  return true;
}
