/**
 * Writes batches of one or more partitions, in the only order that loses nothing and, on
 * a retry, writes nothing twice:
 *   1. commit the intents (offset `start`, metadata = `end`; see offset-intent.ts), all
 *      partitions in one commit,
 *   2. insert the rows (deduplicated by event id within each batch) in one insert, with a
 *      deduplication token,
 *   3. commit each `end`; a batch with poison records in one Kafka transaction with its
 *      dead letters, so the dead-letter topic holds each exactly once: a crash, or a
 *      rebalance that fences this member, before that commit aborts them (read_committed
 *      readers never see them) and leaves `start` committed for the replay.
 * A crash anywhere leaves `start` committed, so the batch is replayed exactly: alone, and
 * for a batch first written with others, by inserting only the rows the table lacks.
 * Several partitions in one insert is what lets a worker send ClickHouse about one insert
 * per maxDelay instead of one per partition (start-sink.ts decides what goes together).
 */
import { failpoint } from "../failpoints.js";
import type { ClickHouseClient } from "@clickhouse/client";
import type { OutMessage } from "../kafka/port.js";
import type { CompiledSink } from "../pipeline/compiled.js";
import type { ServerFeatures } from "../clickhouse/server-version.js";
import { tableRef } from "../clickhouse/table-ddl.js";
import { decodeRecord, type DecodedRow, type Poison, type SourceRecord } from "./decode.js";
import { dedupeByEventId } from "./dedupe.js";
import { deadLetterMessage } from "./dead-letter.js";
import { encodeRow } from "./encode-row.js";
import { dedupToken, encodeIntent, groupInsertQueryId, groupInsertsFilter, groupToken, newGroupId, replayInsertQueryId, replayToken } from "./offset-intent.js";
import { isRetriableClickHouseError, InsertRejectedError } from "./errors.js";
import { retrying, type RetryContext } from "./retry.js";
import { kafkaRetry, type KafkaStep } from "./kafka-retry.js";
import type { SinkMetrics } from "./metrics.js";
import { jsonLogger, type Logger } from "../log.js";

export interface Batch {
  partition: number;
  /** First offset the batch covers: the committed offset it starts from. */
  start: number;
  /** One past the last record's offset: the offset committed when it is written. */
  end: number;
  records: SourceRecord[];
  /** The intent for [start, end) is already committed (a replay after a crash or rebalance). */
  replay: boolean;
  /** A replay of a batch first written in a combined insert: that insert's group (offset-intent.ts). */
  group?: string;
}

export interface OffsetCommit {
  partition: number;
  offset: number;
  metadata: string | null;
}

export interface WriterDeps {
  sink: CompiledSink;
  sinkLabel: string;
  features: ServerFeatures;
  clickhouse: ClickHouseClient;
  /** Commits the offsets of several partitions in one request. */
  commit(offsets: OffsetCommit[]): Promise<void>;
  /** Dead letters and the commit of `offset`, in one transaction (all or nothing). */
  deadLetterAndCommit(partition: number, offset: number, messages: OutMessage[]): Promise<void>;
  /** How long a Kafka step (commit, dead-letter send) may keep failing before the sink fails, in ms. */
  kafkaRetryDeadlineMs: number;
  metrics: SinkMetrics;
  now(): number;
  /** Default: JSON lines on stdout. */
  logger?: Logger;
}

export interface BatchOutcome {
  /** Rows of the batch, after its in-batch dedupe. */
  rows: number;
  duplicates: number;
  poison: number;
  /** A replay found every row already in the table. */
  skippedInsert: boolean;
}

interface Decoded {
  batch: Batch;
  unique: DecodedRow[];
  dropped: number;
  poison: Poison[];
}

const defaultLogger = jsonLogger("sink");

/** One batch alone: what a replay is, and what a worker owning one partition writes. */
export async function writeBatch(deps: WriterDeps, batch: Batch, ctx: RetryContext): Promise<BatchOutcome> {
  return (await writeBatches(deps, [batch], ctx))[0]!;
}

/** Batches of distinct partitions in one insert; a replay is always written alone. */
export async function writeBatches(deps: WriterDeps, batches: Batch[], ctx: RetryContext): Promise<BatchOutcome[]> {
  if (batches.length === 0) return [];
  if (batches.length > 1 && batches.some((b) => b.replay)) throw new Error("a replayed batch is written alone");
  const decoded = batches.map((b) => decodeBatch(deps.sink, b));
  const kafka = (step: KafkaStep) => kafkaRetry(step, deps.kafkaRetryDeadlineMs);
  const group = batches.length > 1 ? newGroupId() : undefined;
  const what = rangesOf(batches);

  const intents = batches.filter((b) => !b.replay).map((b): OffsetCommit => ({ partition: b.partition, offset: b.start, metadata: encodeIntent(b.end, group) }));
  if (intents.length > 0) await retrying(`commit intent ${what}`, ctx, () => deps.commit(intents), kafka("commit intent"));

  const rows = decoded.flatMap((d) => d.unique);
  let inserted = rows.length;
  const first = batches[0]!;
  if (rows.length > 0) {
    failpoint("sink.before-insert");
    if (group !== undefined) await insert(deps, rows, { what: `insert ${what}`, token: groupToken(deps.sink.stream.topic, group), queryId: () => groupInsertQueryId(group) }, batches, ctx);
    else if (first.replay && first.group !== undefined) inserted = await replayFromGroup(deps, first, first.group, rows, ctx);
    else if (first.replay && !deps.features.insertDeduplicationToken && (await alreadyWritten(deps, first, rows, ctx))) inserted = 0;
    else await insert(deps, rows, { what: `insert ${what}`, token: dedupToken(deps.sink.stream.topic, first.partition, first.start, first.end) }, batches, ctx);
    failpoint("sink.after-insert");
  }

  const clean = decoded.filter((d) => d.poison.length === 0).map((d): OffsetCommit => ({ partition: d.batch.partition, offset: d.batch.end, metadata: null }));
  if (clean.length > 0) await retrying(`commit ${clean.map((c) => `p${c.partition} ${c.offset}`).join(", ")}`, ctx, () => deps.commit(clean), kafka("commit"));
  for (const d of decoded) {
    if (d.poison.length === 0) continue;
    const { partition, start, end } = d.batch;
    const messages = d.poison.map((p) => deadLetterMessage(p, deps.sink.stream.topic, deps.sinkLabel));
    await retrying(`dead-letter and commit p${partition} ${start}-${end}`, ctx, () => deps.deadLetterAndCommit(partition, end, messages), kafka("dead-letter"));
  }

  const m = deps.metrics;
  const label = { sink: deps.sinkLabel };
  const now = deps.now();
  m.rowsWritten.inc(label, inserted);
  m.batchRows.observe(label, rows.length);
  m.batchBytes.observe(label, batches.reduce((n, b) => n + b.records.reduce((k, r) => k + (r.value?.length ?? 0) + (r.key?.length ?? 0), 0), 0));
  for (const d of decoded) {
    if (d.dropped > 0) m.duplicatesDropped.inc(label, d.dropped);
    if (d.poison.length > 0) m.deadLettered.inc(label, d.poison.length);
  }
  for (const r of rows) {
    m.eventToWrittenSeconds.observe(label, Math.max(0, now - r.eventTimeMs) / 1000);
    m.ingestToWrittenSeconds.observe(label, Math.max(0, now - r.ingestTimeMs) / 1000);
  }
  return decoded.map((d) => ({ rows: d.unique.length, duplicates: d.dropped, poison: d.poison.length, skippedInsert: d.unique.length > 0 && inserted === 0 }));
}

/** Dedupe is per batch, never across a group: a batch's rows must not depend on what it was written with. */
function decodeBatch(sink: CompiledSink, batch: Batch): Decoded {
  const valid: DecodedRow[] = [];
  const poison: Poison[] = [];
  for (const r of batch.records) {
    const d = decodeRecord(sink.stream, r);
    if (d.ok) valid.push(d.value);
    else poison.push(d.poison);
  }
  const { unique, dropped } = dedupeByEventId(valid);
  return { batch, unique, dropped, poison };
}

function rangesOf(batches: Batch[]): string {
  return batches.map((b) => `p${b.partition} ${b.start}-${b.end}`).join(", ");
}

interface InsertOptions {
  what: string;
  token: string;
  /** A fresh query id per attempt, for inserts a replay may have to stop. */
  queryId?: () => string;
}

async function insert(deps: WriterDeps, rows: DecodedRow[], o: InsertOptions, batches: Batch[], ctx: RetryContext): Promise<void> {
  const keyColumns = new Set(deps.sink.orderBy);
  const values = rows.map((r) => encodeRow(deps.sink.stream, keyColumns, r, deps.features));
  const settings: Record<string, string | number> = {};
  if (deps.features.insertDeduplicationToken) settings.insert_deduplication_token = o.token;
  try {
    await retrying(o.what, ctx, async () => {
      const t0 = deps.now();
      await deps.clickhouse.insert({ table: tableRef(deps.sink), values, format: "JSONEachRow", clickhouse_settings: settings, abort_signal: ctx.signal, ...(o.queryId ? { query_id: o.queryId() } : {}) });
      deps.metrics.insertSeconds.observe({ sink: deps.sinkLabel }, (deps.now() - t0) / 1000);
    }, { isRetriable: isRetriableClickHouseError, step: "insert" });
  } catch (err) {
    if (err instanceof Error && err.name === "Abandoned") throw err;
    if (!isRetriableClickHouseError(err)) {
      const [b, ...others] = batches;
      const offsets = `${b!.start}-${b!.end}${others.length > 0 ? ` (in one insert with ${rangesOf(others)})` : ""}`;
      throw new InsertRejectedError(b!.partition, offsets, err);
    }
    throw err;
  }
}

/**
 * The replay of one partition's batch from a combined insert. That insert (or an earlier
 * replay of this batch) may still be running on the server, from a member that crashed or
 * lost the partition: it is stopped first (KILL QUERY ... SYNC returns once it no longer
 * runs), so the table cannot change under the check. Then only the rows the table lacks
 * are inserted. Returns how many.
 */
async function replayFromGroup(deps: WriterDeps, batch: Batch, group: string, rows: DecodedRow[], ctx: RetryContext): Promise<number> {
  const { partition, start, end } = batch;
  await stopGroupInserts(deps, group, partition, ctx);
  const present = await writtenOffsets(deps, batch, rows, ctx);
  const missing = rows.filter((r) => !present.has(r.record.offset));
  (deps.logger ?? defaultLogger).info("replaying a batch of a combined insert", { sink: deps.sinkLabel, partition, offsets: `${start}-${end}`, rows: rows.length, alreadyWritten: rows.length - missing.length });
  if (missing.length === 0) return 0;
  const token = replayToken(deps.sink.stream.topic, partition, start, end, missing.map((r) => r.record.offset));
  await insert(deps, missing, { what: `insert p${partition} ${start}-${end} (replay)`, token, queryId: () => replayInsertQueryId(group, partition) }, [batch], ctx);
  return missing.length;
}

async function stopGroupInserts(deps: WriterDeps, group: string, partition: number, ctx: RetryContext): Promise<void> {
  try {
    await retrying(`stop inserts of group ${group}`, ctx, async () => {
      const rs = await deps.clickhouse.query({ query: `KILL QUERY WHERE ${groupInsertsFilter(group, partition)} SYNC`, format: "JSONEachRow" });
      await rs.json();
    }, { step: "check replay", isRetriable: isRetriableClickHouseError, maxNonRetriable: 1 });
  } catch (err) {
    if (err instanceof Error && err.name === "Abandoned") throw err;
    // A user without the right to stop its own queries: the check below still holds unless
    // an insert of the group lands after it (a member that lost the partition while its
    // insert was on the server); the table's ReplacingMergeTree key is the backstop then.
    (deps.logger ?? defaultLogger).warn("could not stop the inserts of a combined batch before replaying it", { sink: deps.sinkLabel, group, partition, error: (err as Error).message });
  }
}

async function writtenOffsets(deps: WriterDeps, batch: Batch, rows: DecodedRow[], ctx: RetryContext): Promise<Set<number>> {
  const query = `SELECT DISTINCT _kafka_offset AS o FROM ${tableRef(deps.sink)} WHERE ${rangeOf(deps.sink, batch, rows)}`;
  return retrying(`check replay p${batch.partition}`, ctx, async () => {
    const rs = await deps.clickhouse.query({ query, format: "JSONEachRow" });
    return new Set(((await rs.json()) as { o: string | number }[]).map((r) => Number(r.o)));
  }, { step: "check replay" });
}

/**
 * Old servers have no deduplication token. When replaying an intent, look whether the
 * previous owner's insert landed (an insert is one block, so all or nothing in practice)
 * before inserting again. This scans the table, but only on a replay, which only happens
 * after a crash or a rebalance caught a batch in flight.
 */
async function alreadyWritten(deps: WriterDeps, batch: Batch, rows: DecodedRow[], ctx: RetryContext): Promise<boolean> {
  const expected = rows.length;
  const query = `SELECT count() AS n FROM ${tableRef(deps.sink)} WHERE ${rangeOf(deps.sink, batch, rows)}`;
  const n = await retrying(`check replay p${batch.partition}`, ctx, async () => {
    const rs = await deps.clickhouse.query({ query, format: "JSONEachRow" });
    const [row] = (await rs.json()) as { n: string | number }[];
    return Number(row?.n ?? 0);
  }, { step: "check replay" });
  return n >= expected;
}

/**
 * The batch's rows in the table. Nothing indexes the Kafka coordinates, so the batch's own
 * event times bound the scan: the table is partitioned and usually ordered by event time,
 * and a replay then reads the parts of those days, not the whole table. Times outside
 * DateTime's range (1970-2106, where a stored value may differ) leave the bound out.
 */
function rangeOf(sink: CompiledSink, batch: Batch, rows: readonly DecodedRow[]): string {
  const where = [`_kafka_partition = ${batch.partition}`, `_kafka_offset >= ${batch.start}`, `_kafka_offset < ${batch.end}`];
  let min = Infinity;
  let max = -Infinity;
  for (const r of rows) {
    if (r.eventTimeMs < min) min = r.eventTimeMs;
    if (r.eventTimeMs > max) max = r.eventTimeMs;
  }
  const lo = Math.floor(min / 1000);
  const hi = Math.ceil(max / 1000);
  if (rows.length > 0 && lo >= 0 && hi < 2 ** 32 - 1) {
    const column = `\`${sink.stream.keys.eventTime}\``;
    where.push(`${column} >= toDateTime(${lo}, 'UTC')`, `${column} <= toDateTime(${hi}, 'UTC')`);
  }
  return where.join(" AND ");
}
