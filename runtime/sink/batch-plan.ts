/**
 * When a partition's buffer becomes a batch, and how much of it: a pure decision over the
 * buffered records, so the boundaries are unit-tested without Kafka.
 */
export interface Buffered {
  offset: number;
  bytes: number;
}

export interface BatchLimits {
  maxRows: number;
  maxBytes: number;
  maxDelayMs: number;
}

export interface CutInput {
  now: number;
  /** When the oldest buffered record arrived. */
  oldestAt: number;
  /** End offset of an in-flight batch from a previous owner: cut exactly there. */
  boundary?: number;
  /** The worker's memory budget is spent: write what is buffered now, without waiting for maxDelay. */
  force?: boolean;
}

/**
 * How many records from the head of `buffer` form the next batch; 0 = not yet.
 * Limits are by rows and by bytes, whichever first (a single record over maxBytes still
 * goes alone); a partial batch goes once the oldest record waited maxDelayMs, or at once
 * when forced (the worker's memory budget is spent). With a
 * boundary, the batch is exactly the records below it, and waits until the record just
 * below it was seen, since the batch must equal the one the previous owner started.
 */
export function cutBatch(buffer: readonly Buffered[], limits: BatchLimits, input: CutInput): number {
  if (buffer.length === 0) return 0;
  if (input.boundary !== undefined) {
    const below = countBelow(buffer, input.boundary);
    const complete = below < buffer.length || buffer[buffer.length - 1]!.offset >= input.boundary - 1;
    // A missing last offset (a transaction marker, compaction) would wait forever: after a
    // long wait give up on exactness; the table's dedupe key still holds.
    const waitedTooLong = input.now - input.oldestAt >= 10 * limits.maxDelayMs;
    if (complete || waitedTooLong) return Math.max(below, 1);
    return 0;
  }
  let rows = 0;
  let bytes = 0;
  for (const r of buffer) {
    if (rows > 0 && bytes + r.bytes > limits.maxBytes) return rows;
    rows++;
    bytes += r.bytes;
    if (rows >= limits.maxRows || bytes >= limits.maxBytes) return rows;
  }
  return input.force || input.now - input.oldestAt >= limits.maxDelayMs ? rows : 0;
}

function countBelow(buffer: readonly Buffered[], boundary: number): number {
  let n = 0;
  while (n < buffer.length && buffer[n]!.offset < boundary) n++;
  return n;
}
