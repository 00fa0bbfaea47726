/**
 * Deterministic batches across crashes and rebalances.
 *
 * Before a batch [start, end) of a partition is written, the sink commits offset `start`
 * again with metadata naming `end` (the intent). Only after ClickHouse acknowledged does
 * it commit `end`. Whoever reads the partition next (this process after a crash, or
 * another replica after a rebalance) finds either a plain committed offset (nothing in
 * flight) or an intent, and then cuts its first batch at exactly `end`. Kafka records
 * are immutable, so the retried batch has the same records and the same rows.
 *
 * A batch written alone (v1 intent) is retried with the same `insert_deduplication_token`
 * (`sluice:<topic>:<partition>:<start>-<end>`), which modern ClickHouse uses to drop the
 * second copy; old servers without tokens check the range before re-inserting.
 *
 * Batches of several partitions written in one insert (v2 intent, naming the group) cannot
 * be retried as that insert: the next owner of one partition may not own the others. Their
 * replay stops any insert of the group still running on the server (KILL QUERY by the
 * group's query ids), reads which of the batch's offsets the table already holds, and
 * inserts only the others (batch-writer.ts).
 */
import { createHash, randomBytes } from "node:crypto";

const V1 = "sluice-intent:v1:";
const V2 = "sluice-intent:v2:";

export interface Intent {
  /** One past the last offset of the batch in flight. */
  end: number;
  /** Set when the batch was written in a combined insert: that insert's group id. */
  group?: string;
}

export function encodeIntent(end: number, group?: string): string {
  return group === undefined ? `${V1}${end}` : `${V2}${end}:${group}`;
}

/** The in-flight batch an offset's metadata names, or undefined for none/foreign metadata. */
export function decodeIntent(metadata: string | null | undefined, committedOffset: number): Intent | undefined {
  if (!metadata) return undefined;
  let end: number;
  let group: string | undefined;
  if (metadata.startsWith(V1)) end = Number(metadata.slice(V1.length));
  else if (metadata.startsWith(V2)) {
    const [e, g] = metadata.slice(V2.length).split(":");
    if (!g || !GROUP_ID.test(g)) return undefined;
    end = Number(e);
    group = g;
  } else return undefined;
  if (!Number.isSafeInteger(end) || end <= committedOffset) return undefined;
  return group === undefined ? { end } : { end, group };
}

const GROUP_ID = /^[0-9a-f]{16}$/;

export function newGroupId(): string {
  return randomBytes(8).toString("hex");
}

export function dedupToken(topic: string, partition: number, start: number, end: number): string {
  return `sluice:${topic}:${partition}:${start}-${end}`;
}

/** A combined insert's token: its own retries (a timeout that hid a success) are dropped. */
export function groupToken(topic: string, group: string): string {
  return `sluice:${topic}:group:${group}`;
}

/**
 * A replay's token names exactly the rows it inserts (the batch's offsets the table lacked):
 * a second replay that finds the same rows missing sends the same token and is dropped, and
 * one that finds fewer missing (the first landed in part) sends another.
 */
export function replayToken(topic: string, partition: number, start: number, end: number, offsets: readonly number[]): string {
  const digest = createHash("sha256").update(offsets.join(",")).digest("hex").slice(0, 32);
  return `${dedupToken(topic, partition, start, end)}:rows:${digest}`;
}

/** Query ids: unique per attempt (a timed-out attempt may still run), findable per group. */
export function groupInsertQueryId(group: string): string {
  return `sluice-${group}-g-${randomBytes(4).toString("hex")}`;
}

export function replayInsertQueryId(group: string, partition: number): string {
  return `sluice-${group}-p${partition}-${randomBytes(4).toString("hex")}`;
}

/** The inserts a replay of `partition` must stop first: the group's own and earlier replays of the same batch. */
export function groupInsertsFilter(group: string, partition: number): string {
  return `query_id LIKE 'sluice-${group}-g-%' OR query_id LIKE 'sluice-${group}-p${partition}-%'`;
}
