/**
 * Deterministic batches across crashes and rebalances.
 *
 * Before a batch [start, end) of a partition is written, the sink commits offset `start`
 * again with metadata naming `end` (the intent). Only after ClickHouse acknowledged does
 * it commit `end`. Whoever reads the partition next (this process after a crash, or
 * another replica after a rebalance) finds either a plain committed offset (nothing in
 * flight) or an intent, and then cuts its first batch at exactly `end`. Kafka records
 * are immutable, so the retried batch has the same records, the same rows and the same
 * `insert_deduplication_token` (`sluice:<topic>:<partition>:<start>-<end>`), which modern
 * ClickHouse uses to drop the second copy. Old servers without tokens fall back to
 * checking the range before re-inserting, and to the ReplacingMergeTree key.
 */
const PREFIX = "sluice-intent:v1:";

export function encodeIntent(end: number): string {
  return `${PREFIX}${end}`;
}

/** The `end` of an in-flight batch, or undefined for none/foreign metadata. */
export function decodeIntent(metadata: string | null | undefined, committedOffset: number): number | undefined {
  if (!metadata?.startsWith(PREFIX)) return undefined;
  const end = Number(metadata.slice(PREFIX.length));
  return Number.isSafeInteger(end) && end > committedOffset ? end : undefined;
}

export function dedupToken(topic: string, partition: number, start: number, end: number): string {
  return `sluice:${topic}:${partition}:${start}-${end}`;
}
