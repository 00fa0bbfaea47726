/**
 * In-batch dedupe on event id: client retries put the same event in Kafka twice, often
 * close together. The first occurrence wins, so the row keeps the earliest offset and the
 * result depends only on the batch's records (deterministic for retries).
 */
export function dedupeByEventId<T extends { eventId: string }>(rows: readonly T[]): { unique: T[]; dropped: number } {
  const seen = new Set<string>();
  const unique: T[] = [];
  for (const r of rows) {
    if (seen.has(r.eventId)) continue;
    seen.add(r.eventId);
    unique.push(r);
  }
  return { unique, dropped: rows.length - unique.length };
}
