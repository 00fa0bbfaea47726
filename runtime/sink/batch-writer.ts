/**
 * Writes one batch of one partition, in the only order that loses nothing and, on a
 * retry, writes nothing twice:
 *   1. commit the intent (offset `start`, metadata = `end`; see offset-intent.ts),
 *   2. insert the rows (deduplicated by event id, with a deduplication token),
 *   3. commit `end`; when the batch has poison records, in one Kafka transaction with their
 *      dead letters, so the dead-letter topic holds each exactly once: a crash, or a
 *      rebalance that fences this member, before that commit aborts them (read_committed
 *      readers never see them) and leaves `start` committed for the replay.
 * A crash anywhere leaves `start` committed, so the batch is replayed exactly.
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
import { dedupToken, encodeIntent } from "./offset-intent.js";
import { isRetriableClickHouseError, InsertRejectedError } from "./errors.js";
import { retrying, type RetryContext } from "./retry.js";
import { kafkaRetry, type KafkaStep } from "./kafka-retry.js";
import type { SinkMetrics } from "./metrics.js";

export interface Batch {
  partition: number;
  /** First offset the batch covers: the committed offset it starts from. */
  start: number;
  /** One past the last record's offset: the offset committed when it is written. */
  end: number;
  records: SourceRecord[];
  /** The intent for [start, end) is already committed (a replay after a crash or rebalance). */
  replay: boolean;
}

export interface WriterDeps {
  sink: CompiledSink;
  sinkLabel: string;
  features: ServerFeatures;
  clickhouse: ClickHouseClient;
  commit(partition: number, offset: number, metadata: string | null): Promise<void>;
  /** Dead letters and the commit of `offset`, in one transaction (all or nothing). */
  deadLetterAndCommit(partition: number, offset: number, messages: OutMessage[]): Promise<void>;
  /** How long a Kafka step (commit, dead-letter send) may keep failing before the sink fails, in ms. */
  kafkaRetryDeadlineMs: number;
  metrics: SinkMetrics;
  now(): number;
}

export interface BatchOutcome {
  rows: number;
  duplicates: number;
  poison: number;
  skippedInsert: boolean;
}

export async function writeBatch(deps: WriterDeps, batch: Batch, ctx: RetryContext): Promise<BatchOutcome> {
  const { sink } = deps;
  const valid: DecodedRow[] = [];
  const poison: Poison[] = [];
  for (const r of batch.records) {
    const d = decodeRecord(sink.stream, r);
    if (d.ok) valid.push(d.value);
    else poison.push(d.poison);
  }
  const { unique, dropped } = dedupeByEventId(valid);
  const range = `${batch.start}-${batch.end}`;

  const kafka = (step: KafkaStep) => kafkaRetry(step, deps.kafkaRetryDeadlineMs);
  if (!batch.replay) await retrying(`commit intent p${batch.partition} ${range}`, ctx, () => deps.commit(batch.partition, batch.start, encodeIntent(batch.end)), kafka("commit intent"));
  let skippedInsert = false;
  if (unique.length > 0) {
    skippedInsert = batch.replay && !deps.features.insertDeduplicationToken && (await alreadyWritten(deps, batch, unique.length, ctx));
    failpoint("sink.before-insert");
    if (!skippedInsert) await insert(deps, batch, unique, ctx);
    failpoint("sink.after-insert");
  }
  if (poison.length > 0) {
    const messages = poison.map((p) => deadLetterMessage(p, sink.stream.topic, deps.sinkLabel));
    await retrying(`dead-letter and commit p${batch.partition} ${range}`, ctx, () => deps.deadLetterAndCommit(batch.partition, batch.end, messages), kafka("dead-letter"));
  } else await retrying(`commit p${batch.partition} ${batch.end}`, ctx, () => deps.commit(batch.partition, batch.end, null), kafka("commit"));

  const m = deps.metrics;
  const label = { sink: deps.sinkLabel };
  const now = deps.now();
  m.rowsWritten.inc(label, skippedInsert ? 0 : unique.length);
  m.batchRows.observe(label, unique.length);
  m.batchBytes.observe(label, batch.records.reduce((n, r) => n + (r.value?.length ?? 0) + (r.key?.length ?? 0), 0));
  if (dropped > 0) m.duplicatesDropped.inc(label, dropped);
  if (poison.length > 0) m.deadLettered.inc(label, poison.length);
  for (const r of unique) {
    m.eventToWrittenSeconds.observe(label, Math.max(0, now - r.eventTimeMs) / 1000);
    m.ingestToWrittenSeconds.observe(label, Math.max(0, now - r.ingestTimeMs) / 1000);
  }
  return { rows: unique.length, duplicates: dropped, poison: poison.length, skippedInsert };
}

async function insert(deps: WriterDeps, batch: Batch, rows: DecodedRow[], ctx: RetryContext): Promise<void> {
  const keyColumns = new Set(deps.sink.orderBy);
  const values = rows.map((r) => encodeRow(deps.sink.stream, keyColumns, r, deps.features));
  const settings: Record<string, string | number> = {};
  if (deps.features.insertDeduplicationToken) settings.insert_deduplication_token = dedupToken(deps.sink.stream.topic, batch.partition, batch.start, batch.end);
  const what = `insert p${batch.partition} ${batch.start}-${batch.end}`;
  try {
    await retrying(what, ctx, async () => {
      const t0 = deps.now();
      await deps.clickhouse.insert({ table: tableRef(deps.sink), values, format: "JSONEachRow", clickhouse_settings: settings, abort_signal: ctx.signal });
      deps.metrics.insertSeconds.observe({ sink: deps.sinkLabel }, (deps.now() - t0) / 1000);
    }, { isRetriable: isRetriableClickHouseError, step: "insert" });
  } catch (err) {
    if (err instanceof Error && err.name === "Abandoned") throw err;
    if (!isRetriableClickHouseError(err)) throw new InsertRejectedError(batch.partition, `${batch.start}-${batch.end}`, err);
    throw err;
  }
}

/**
 * Old servers have no deduplication token. When replaying an intent, look whether the
 * previous owner's insert landed (an insert is one block, so all or nothing in practice)
 * before inserting again. This scans the table, but only on a replay, which only happens
 * after a crash or a rebalance caught a batch in flight.
 */
async function alreadyWritten(deps: WriterDeps, batch: Batch, expected: number, ctx: RetryContext): Promise<boolean> {
  const query = `SELECT count() AS n FROM ${tableRef(deps.sink)} WHERE _kafka_partition = ${batch.partition} AND _kafka_offset >= ${batch.start} AND _kafka_offset < ${batch.end}`;
  const n = await retrying(`check replay p${batch.partition}`, ctx, async () => {
    const rs = await deps.clickhouse.query({ query, format: "JSONEachRow" });
    const [row] = (await rs.json()) as { n: string | number }[];
    return Number(row?.n ?? 0);
  }, { step: "check replay" });
  return n >= expected;
}
