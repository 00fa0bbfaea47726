/**
 * Writes one flush: everything the engine emitted up to a moment, then the checkpoint
 * taken at that same moment. The order loses nothing and repeats nothing:
 *   1. late events (policy Table: the late table, deduplicated by event id),
 *   2. result rows (aggregate table),
 *   3. commit committableOffsets() with the checkpoint as metadata; when there are dead
 *      letters or late-topic messages, in one Kafka transaction with them, so each is in its
 *      topic exactly once for read_committed readers.
 * A crash before 3 replays from the previous commit, which regenerates the same rows
 * with the same versions: the tables are ReplacingMergeTrees, so rewriting is harmless,
 * and the uncommitted transaction's messages are aborted.
 */
import type { ClickHouseClient } from "@clickhouse/client";
import type { OutMessage } from "../kafka/port.js";
import type { Checkpoint, Output } from "../aggregate/engine.js";
import type { ServerFeatures } from "../clickhouse/server-version.js";
import { deadLetterMessage } from "../sink/dead-letter.js";
import type { Poison } from "../sink/decode.js";
import { isRetriableClickHouseError } from "../sink/errors.js";
import { retrying, type RetryContext } from "../sink/retry.js";
import { isFatalKafkaError } from "../kafka/fatal-error.js";
import { defaultKafkaRetryDeadlineMs } from "../sink/kafka-retry.js";
import { checkpointCommits } from "./checkpoint-metadata.js";
import { encodeAggregateRow, encodeLateRow, lateMessage, type ChRow } from "./encode.js";
import { AggregateWriteRejectedError } from "./errors.js";
import type { CompiledAggregationJob } from "./job.js";
import type { AggregationMetrics } from "./metrics.js";
import { tableRef } from "./table-ddl.js";

export interface Flush {
  outputs: Output[];
  poison: Poison[];
  checkpoint: Checkpoint;
}

export interface FlushDeps {
  job: CompiledAggregationJob;
  label: string;
  features: ServerFeatures;
  clickhouse: ClickHouseClient;
  commit(offsets: { partition: number; offset: number; metadata: string }[]): Promise<void>;
  /** Messages and the commit in one transaction (all or nothing). */
  commitWithMessages(records: { topic: string; messages: OutMessage[] }[], offsets: { partition: number; offset: number; metadata: string }[]): Promise<void>;
  metrics: AggregationMetrics;
  now(): number;
}

/**
 * Kafka errors that waiting can fix (a coordinator move, a leader election, a timeout) are
 * retried for as long as a broker failover or rolling restart takes; one that waiting cannot
 * fix (kafka/fatal-error.ts), or one outlasting that, fails the worker loudly.
 */
export const kafkaSteps = { isRetriable: (e: unknown) => !isFatalKafkaError(e), maxNonRetriable: 1, deadlineMs: defaultKafkaRetryDeadlineMs };

/** The aggregation's Kafka steps, as named in metrics and on the retry board. */
export const AGGREGATION_KAFKA_STEPS = ["read offsets", "commit", "transaction"] as const;
export const isAggregationKafkaStep = (step: string | undefined): boolean => (AGGREGATION_KAFKA_STEPS as readonly (string | undefined)[]).includes(step);

export async function writeFlush(deps: FlushDeps, flush: Flush, ctx: RetryContext): Promise<void> {
  const { job, features } = deps;
  const now = deps.now();
  const rows: ChRow[] = [];
  const late: Extract<Output, { kind: "late" }>[] = [];
  const firings = new Map<string, number>();
  for (const o of flush.outputs) {
    if (o.kind === "late") late.push(o);
    else {
      rows.push(encodeAggregateRow(job, o.row, features, now));
      const firing = o.row.firing;
      firings.set(firing, (firings.get(firing) ?? 0) + 1);
    }
  }
  const records: { topic: string; messages: OutMessage[] }[] = [];
  if (flush.poison.length > 0) records.push({ topic: job.stream.deadLetterTopic, messages: flush.poison.map((p) => deadLetterMessage(p, job.stream.topic, deps.label)) });
  if (late.length > 0) {
    const lateOut = job.late;
    if (lateOut.policy === "Table") await insert(deps, tableRef(lateOut), late.map((l) => encodeLateRow(job, l.event, l.reason, features, now)), ctx);
    else records.push({ topic: lateOut.topic, messages: late.map((l) => lateMessage(job, l.event, l.reason)) });
  }
  if (rows.length > 0) await insert(deps, tableRef(job.output), rows, ctx);
  const commits = checkpointCommits(flush.checkpoint);
  if (records.length > 0) await retrying("dead-letters, late events and commit", ctx, () => deps.commitWithMessages(records, commits), { ...kafkaSteps, step: "transaction" });
  else if (commits.length > 0) await retrying("commit", ctx, () => deps.commit(commits), { ...kafkaSteps, step: "commit" });

  const label = { aggregation: deps.label };
  for (const [firing, n] of firings) deps.metrics.rowsEmitted.inc({ ...label, firing }, n);
  const wholly = late.filter((l) => !l.counted).length;
  if (wholly > 0) deps.metrics.lateEvents.inc(label, wholly);
  const missed = late.reduce((n, l) => n + l.missed.length, 0);
  if (missed > 0) deps.metrics.missedWindows.inc(label, missed);
  if (flush.poison.length > 0) deps.metrics.deadLettered.inc(label, flush.poison.length);
}

async function insert(deps: FlushDeps, table: string, values: ChRow[], ctx: RetryContext): Promise<void> {
  try {
    await retrying(`insert ${table}`, ctx, () => deps.clickhouse.insert({ table, values, format: "JSONEachRow", abort_signal: ctx.signal }), { isRetriable: isRetriableClickHouseError, step: "insert" });
  } catch (err) {
    if (err instanceof Error && err.name === "Abandoned") throw err;
    if (!isRetriableClickHouseError(err)) throw new AggregateWriteRejectedError(table, err);
    throw err;
  }
}
