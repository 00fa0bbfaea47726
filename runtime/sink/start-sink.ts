import { setMaxListeners } from "node:events";
/**
 * The ClickHouse sink worker: consumes a stream's topic as the sink's consumer group,
 * batches per partition, and writes each batch with batch-writer.ts. Offsets are only
 * ever committed by the writer, after ClickHouse (and the dead-letter topic) acknowledged.
 */
import { randomBytes } from "node:crypto";
import { clickhouseClient } from "../clickhouse/client.js";
import type { Batch, KafkaAdmin, KafkaConsumer, KafkaTransactionalProducer } from "../kafka/port.js";
import { failpoint } from "../failpoints.js";
import type { Registry } from "prom-client";
import type { CompiledSink } from "../pipeline/compiled.js";
import { kafkaClient } from "../kafka/client.js";
import { jsonLogger, type Logger } from "../log.js";
import { detectServerFeatures } from "../clickhouse/server-version.js";
import { ensureSinkTable } from "../clickhouse/ensure-sink-table.js";
import { cutBatch } from "./batch-plan.js";
import { writeBatches, type Batch as SinkBatch, type WriterDeps } from "./batch-writer.js";
import { defaultBackoff, type BackoffOptions } from "./backoff.js";
import { RetentionGapError, type PartitionGap } from "./errors.js";
import { sinkMetrics } from "./metrics.js";
import { ingestTimeMs } from "./decode.js";
import { decodeIntent } from "./offset-intent.js";
import { heldCost, newPartitionState, overLimit, type BufferedRecord, type CombinedWrite, type PartitionState } from "./partition-state.js";
import { defaultMemoryBudget, RECORD_OVERHEAD_BYTES } from "./memory-budget.js";
import { RetryBoard } from "./retry-board.js";
import { retrying, type RetryContext } from "./retry.js";
import { defaultKafkaRetryDeadlineMs, isKafkaStep, kafkaRetry } from "./kafka-retry.js";

export interface SinkOptions {
  sink: CompiledSink;
  kafkaBrokers: string[];
  clickhouseUrl: string;
  registry: Registry;
  /** Names this worker in Kafka client ids and logs. Default: random. */
  instanceId?: string;
  logger?: Logger;
  /** Retry schedule for ClickHouse and Kafka writes. Default: 200 ms doubling to 30 s. */
  backoff?: BackoffOptions;
  /**
   * Kafka group session timeout. A crashed member's partitions move only after it, so it
   * bounds recovery time. Default 30 s; crash tests use the broker minimum, 6 s.
   */
  sessionTimeoutMs?: number;
  /**
   * How long a Kafka step (reading offsets, committing, dead-lettering) may keep failing
   * with an error waiting can fix before the sink fails, in ms. Default 5 minutes.
   */
  kafkaRetryDeadlineMs?: number;
  /** Where steps being retried are shown (the worker's /status); default: a private one. */
  retries?: RetryBoard;
  /** Fetched data held across all partitions, in memory-budget.ts's cost units. Default: defaultMemoryBudget(). */
  memoryBudgetBytes?: number;
}

export interface SinkHandle {
  /** Stops consuming and abandons unwritten batches (they are replayed by the next owner). */
  stop(): Promise<void>;
  /** Rejects on an unrecoverable error (e.g. RetentionGapError); never resolves. */
  failed: Promise<never>;
}

export async function startSink(opts: SinkOptions): Promise<SinkHandle> {
  const { sink } = opts;
  const topic = sink.stream.topic;
  const label = `${sink.namespace}/${sink.name}`;
  const instanceId = opts.instanceId ?? randomBytes(4).toString("hex");
  const log = opts.logger ?? jsonLogger("sink");
  const limits = sink.batching;
  const metrics = sinkMetrics(opts.registry);
  const kafkaRetryDeadlineMs = opts.kafkaRetryDeadlineMs ?? defaultKafkaRetryDeadlineMs;
  const retries = opts.retries ?? new RetryBoard();
  const memoryBudget = opts.memoryBudgetBytes ?? defaultMemoryBudget();

  const clickhouse = clickhouseClient({ url: opts.clickhouseUrl, requestTimeoutMs: 30_000 });
  const features = await detectServerFeatures(clickhouse);
  await ensureSinkTable(clickhouse, sink, features);
  log.info("sink table ready", { sink: label, clickhouse: features.version.text, dedupToken: features.insertDeduplicationToken });

  const kafka = kafkaClient(opts.kafkaBrokers, `sluice-sink-${sink.name}-${instanceId}`);
  const admin: KafkaAdmin = kafka.admin();
  // Dead letters go with their batch's offset commit in one transaction (batch-writer.ts).
  // Connected on first use: a sink that never meets a poison record never opens one.
  const deadLetters: KafkaTransactionalProducer = kafka.transactionalProducer(`sluice-sink-${sink.namespace}-${sink.name}-${instanceId}`);
  const consumer: KafkaConsumer = kafka.consumer({
    groupId: sink.groupId,
    maxWaitTimeInMs: Math.min(500, Math.max(50, limits.maxDelayMs)),
    ...(opts.sessionTimeoutMs ? { sessionTimeoutMs: opts.sessionTimeoutMs } : {}),
    onAssigned: (partitions) => onAssigned(partitions),
    onRevoked: () => onRevoked(),
  });
  await Promise.all([admin.connect(), consumer.connect()]);

  const states = new Map<number, PartitionState>();
  const abort = new AbortController();
  // One signal aborts the retries of every partition's batch: many listeners by design.
  setMaxListeners(0, abort.signal);
  let stopping = false;
  let failure: Error | undefined;
  let rejectFailed!: (e: Error) => void;
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  // Callers that never await `failed` must not crash the process on it: the error is logged.
  failed.catch(() => {});

  const fail = (err: Error) => {
    if (failure || stopping) return;
    failure = err;
    log.error("sink failed", { sink: label, error: err.message });
    rejectFailed(err);
    void shutdown();
  };

  const deps: WriterDeps = {
    sink, sinkLabel: label, features, clickhouse, metrics, kafkaRetryDeadlineMs, now: () => Date.now(), logger: log,
    commit: async (offsets) => {
      await consumer.commitOffsets(offsets.map((o) => ({ topic, partition: o.partition, offset: String(o.offset), metadata: o.metadata })));
    },
    deadLetterAndCommit: async (partition, offset, messages) => {
      await deadLetters.sendWithOffsets(consumer, [{ topic: sink.stream.deadLetterTopic, messages }], [{ topic, partition, offset: String(offset) }]);
      failpoint("sink.after-dead-letter-commit");
    },
  };
  // A step that is retrying is on the retry board (the worker's /status, the Sink's
  // Retrying condition) until it ends; a Kafka step also in sluice_sink_kafka_retrying, and
  // each retry in sluice_sink_kafka_retries_total: a coordinator move is visible, not silent.
  const noteRetry = (what: string, attempt: number, err: unknown, step: string | undefined): void => {
    retries.retrying(what, isKafkaStep(step) ? "kafka" : "clickhouse", step ?? what, attempt, err);
    if (!isKafkaStep(step)) return;
    metrics.kafkaRetries.inc({ sink: label, step });
    if (attempt === 1) metrics.kafkaRetrying.inc({ sink: label, step });
  };
  const retrySettled = (what: string, step: string | undefined): void => {
    if (retries.settled(what) && isKafkaStep(step)) metrics.kafkaRetrying.dec({ sink: label, step });
  };
  const noteSlow = (what: string, waitedMs: number, step: string | undefined): void => {
    retries.waiting(what, isKafkaStep(step) ? "kafka" : "clickhouse", step ?? what, waitedMs);
    log.warn("batch step has no answer yet", { sink: label, step: what, waitedMs });
  };
  const retryCtx = (members: PartitionState[], signal: AbortSignal): RetryContext => ({
    shouldContinue: () => !stopping && !failure && members.every((m) => !m.revoked),
    signal,
    backoff: opts.backoff ?? defaultBackoff,
    onRetry: (what, attempt, err, delayMs, step) => {
      if (what.startsWith("insert")) metrics.insertRetries.inc({ sink: label });
      noteRetry(what, attempt, err, step);
      log.warn("batch step failed, retrying", { sink: label, step: what, attempt, delayMs, error: (err as Error).message });
    },
    onSettled: retrySettled,
    onSlow: noteSlow,
  });

  // The worker-wide budget (memory-budget.ts): over it, every partition writes what it holds
  // at once and stops fetching until written batches bring it back under.
  const overBudget = (): boolean => {
    let held = 0;
    for (const st of states.values()) held += heldCost(st);
    return held >= memoryBudget;
  };
  const resumeWhereRoom = (): void => {
    if (stopping || overBudget()) return;
    for (const st of states.values()) {
      if (st.paused && !st.revoked && !(st.flushing && overLimit(st, limits))) {
        st.paused = false;
        consumer.resume([{ topic, partitions: [st.partition] }]);
      }
    }
  };

  const maybeFlush = (s: PartitionState): void => {
    if (s.flushing || s.revoked || stopping || failure || s.buffer.length === 0) return;
    const now = Date.now();
    const oldestAt = s.buffer[0]!.arrivedAt;
    const n = cutBatch(s.buffer, limits, { now, oldestAt, boundary: s.boundary, force: overBudget() });
    if (n === 0) {
      // A partial batch goes when its oldest record has waited maxDelay: at that moment, not
      // at the next tick (up to a quarter of maxDelay later, 250 ms at the default: the
      // accept -> queryable p99 paid it).
      // Past that moment and still no batch (a previous owner's boundary not yet reached):
      // the ticker keeps asking.
      const dueIn = oldestAt + limits.maxDelayMs - now;
      if (dueIn > 0) {
        s.dueTimer ??= setTimeout(() => {
          s.dueTimer = undefined;
          maybeFlush(s);
        }, dueIn);
      }
      return;
    }
    const batches = [takeBatch(s, n)];
    // The other partitions' buffered records fill the insert up to the limits, due or not:
    // ClickHouse then gets about one insert per maxDelay from this worker, not one per
    // partition (its guidance: about one per second per table). A replay goes alone: it
    // must equal the batch a previous owner started.
    let roomRows = limits.maxRows - batches[0]!.records.length;
    let roomBytes = limits.maxBytes - batchBytes(batches[0]!);
    if (!batches[0]!.replay) {
      for (const t of states.values()) {
        if (roomRows <= 0 || roomBytes <= 0) break;
        if (t === s || t.flushing || t.revoked || t.boundary !== undefined || t.buffer.length === 0 || t.buffer[0]!.bytes > roomBytes) continue;
        const m = cutBatch(t.buffer, { maxRows: roomRows, maxBytes: roomBytes, maxDelayMs: limits.maxDelayMs }, { now, oldestAt: t.buffer[0]!.arrivedAt, force: true });
        if (m === 0) continue;
        const b = takeBatch(t, m);
        batches.push(b);
        roomRows -= b.records.length;
        roomBytes -= batchBytes(b);
      }
    }
    const members = batches.map((b) => states.get(b.partition)!);
    const combined: CombinedWrite | undefined = members.length > 1 ? { members, abort: new AbortController() } : undefined;
    const signal = combined ? AbortSignal.any([abort.signal, combined.abort.signal]) : abort.signal;
    const flushing = writeBatches(deps, batches, retryCtx(members, signal))
      .then(() => {
        for (const [i, m] of members.entries()) m.committed = batches[i]!.end;
      })
      .catch((err: Error) => {
        if (err.name !== "Abandoned") fail(err);
      })
      .finally(() => {
        for (const m of members) {
          m.flushing = undefined;
          m.combined = undefined;
          m.inflightSinceMs = undefined;
          m.inflightCost = 0;
        }
        resumeWhereRoom();
        for (const m of members) maybeFlush(m);
      });
    for (const m of members) {
      m.flushing = flushing;
      m.combined = combined;
    }
  };

  const batchBytes = (b: SinkBatch): number => b.records.reduce((n, r) => n + (r.value?.length ?? 0) + (r.key?.length ?? 0), 0);

  /** The next `n` buffered records of a partition as its batch in flight. */
  const takeBatch = (s: PartitionState, n: number): SinkBatch => {
    clearTimeout(s.dueTimer);
    s.dueTimer = undefined;
    const records = s.buffer.splice(0, n);
    const bytes = records.reduce((b, r) => b + r.bytes, 0);
    s.bufferedBytes -= bytes;
    s.inflightCost = bytes + records.length * RECORD_OVERHEAD_BYTES;
    const start = s.batchStart ?? records[0]!.offset;
    const end = records[records.length - 1]!.offset + 1;
    const replay = s.boundary !== undefined && end === s.boundary;
    const group = replay ? s.boundaryGroup : undefined;
    s.boundary = undefined;
    s.boundaryGroup = undefined;
    s.batchStart = end;
    s.inflightSinceMs = records[0]!.timestampMs;
    return { partition: s.partition, start, end, records, replay, ...(group !== undefined ? { group } : {}) };
  };

  // Offset reads happen at every rebalance, often while a broker is failing or the group's
  // coordinator is moving: retried like every Kafka step (kafka-retry.ts), never a reason
  // for the worker to die unless waiting cannot fix it.
  const readCtx: RetryContext = {
    shouldContinue: () => !stopping && !failure,
    signal: abort.signal,
    backoff: opts.backoff ?? defaultBackoff,
    onRetry: (what, attempt, err, delayMs, step) => {
      noteRetry(what, attempt, err, step);
      log.warn("reading offsets failed, retrying", { sink: label, step: what, attempt, delayMs, error: (err as Error).message });
    },
    onSettled: retrySettled,
    onSlow: noteSlow,
  };
  const readOffsets = () =>
    retrying("read committed offsets and watermarks", readCtx, () =>
      Promise.all([admin.fetchOffsets({ groupId: sink.groupId, topics: [topic] }), admin.fetchTopicOffsets(topic)]),
    kafkaRetry("read offsets", kafkaRetryDeadlineMs));

  /** Reads committed offsets (and intents) and low watermarks; refuses to start past a retention gap. */
  const initPartitions = async (partitions: number[]): Promise<void> => {
    const [[committed], watermarks] = await readOffsets();
    const gaps: PartitionGap[] = [];
    for (const p of partitions) {
      const c = committed?.partitions.find((x) => x.partition === p);
      const offset = c ? Number(c.offset) : -1;
      const low = Number(watermarks.find((w) => w.partition === p)?.low ?? 0);
      // -1 is "never committed" (a new sink); anything else below the low watermark is a gap.
      if ((offset >= 0 && offset < low) || offset < -1) gaps.push({ partition: p, committedOffset: offset, lowWatermark: low });
      else if (!states.has(p)) {
        states.set(p, newPartitionState(p, offset, decodeIntent(c?.metadata, offset)));
        // Paused here under an earlier ownership and revoked so: the client keeps that pause
        // across the revocation, and a new state (not paused) would never lift it. Seen as
        // a sink with all pods Ready and one backlog nobody read (autoscale loop, CI).
        if (revokedWhilePaused.delete(p)) {
          try {
            consumer.resume([{ topic, partitions: [p] }]);
          } catch (err) {
            log.warn("resuming a partition paused before its revocation failed", { sink: label, partition: p, error: (err as Error).message });
          }
        }
      }
      log.info("partition start", { sink: label, partition: p, committed: offset, lowWatermark: low, intentEnd: states.get(p)?.boundary });
    }
    if (gaps.length > 0) throw new RetentionGapError(topic, gaps);
  };

  let assigned = new Set<number>();
  /** Partitions this worker had paused when they were revoked: resumed if they come back. */
  const revokedWhilePaused = new Set<number>();
  // Set on every join: reads where each newly owned partition starts and checks for a
  // retention gap at once, not when its first record arrives (a gap may leave none).
  let initialised: Promise<boolean> = Promise.resolve(true);
  const initialise = (partitions: number[]): Promise<boolean> =>
    initPartitions(partitions.filter((p) => !states.has(p))).then(
      () => true,
      (err: Error) => {
        fail(err);
        return false;
      },
    );
  // After each rebalance every assigned partition is fetched again from its committed
  // offset; a partition this member keeps keeps its state, and the records it already
  // buffered are skipped by offset (partition-state.ts).
  const onAssigned = (partitions: number[]): void => {
    assigned = new Set(partitions);
    for (const [p, s] of states) {
      if (assigned.has(p)) continue;
      // Revoked: its unwritten records belong to the new owner now; an in-flight batch
      // stops retrying and never commits.
      s.revoked = true;
      clearTimeout(s.dueTimer);
      if (s.paused) revokedWhilePaused.add(p);
      states.delete(p);
    }
    initialised = initialise([...assigned]);
    log.info("partitions assigned", { sink: label, partitions: [...assigned] });
  };

  /**
   * This member is losing its partitions (an eager rebalance takes them all, before it
   * rejoins the group). A combined insert in flight is stopped here, not at the next
   * assignment: a new owner of one of its partitions replays that partition's batch alone
   * (batch-writer.ts), and no attempt of the combined insert may start after that replay
   * looked at the table. Its partitions start again from what Kafka has committed, also
   * those this member gets back (their records are fetched again from there).
   */
  const onRevoked = (): void => {
    for (const s of [...states.values()]) {
      if (!s.combined) continue;
      s.combined.abort.abort();
      for (const m of s.combined.members) {
        m.revoked = true;
        clearTimeout(m.dueTimer);
        if (m.paused) revokedWhilePaused.add(m.partition);
        states.delete(m.partition);
      }
    }
  };

  const eachBatch = async ({ batch }: { batch: Batch }): Promise<void> => {
    if (stopping || failure) return;
    const p = batch.partition;
    if (!(await initialised)) return;
    if (!states.has(p) && !(await initialise([p]))) return;
    const s = states.get(p);
    if (!s || stopping || failure) return;
    if (s.batchStart !== undefined && batch.messages.length > 0 && Number(batch.firstOffset()) > s.nextOffset && (await retentionGap(s))) return;
    s.highWatermark = Number(batch.highWatermark);
    const now = Date.now();
    const first = batch.messages[0];
    // One reading per fetched batch, not per record: it splits ingest-to-written into the
    // wait before the sink (Kafka, the consumer) and the sink's own batching and insert.
    if (first) metrics.ingestToFetchedSeconds.observe({ sink: label }, Math.max(0, now - ingestTimeMs({ headers: first.headers, timestampMs: Number(first.timestamp) })) / 1000);
    for (const m of batch.messages) {
      const offset = Number(m.offset);
      if (offset < s.nextOffset) continue;
      const bytes = (m.value?.length ?? 0) + (m.key?.length ?? 0);
      const rec: BufferedRecord = { partition: p, offset, key: m.key, value: m.value, headers: m.headers, timestampMs: Number(m.timestamp), bytes, arrivedAt: now };
      s.buffer.push(rec);
      s.bufferedBytes += bytes;
      s.nextOffset = offset + 1;
    }
    maybeFlush(s);
    if (!s.paused && ((s.flushing && overLimit(s, limits)) || overBudget())) {
      s.paused = true;
      metrics.fetchPauses.inc({ sink: label });
      consumer.pause([{ topic, partitions: [p] }]);
    }
  };

  /**
   * Records skipped between what we hold and what Kafka delivers: offsets may skip a few
   * (transaction markers) but a low watermark past our position means retention deleted
   * records we never wrote, and the client silently jumped.
   */
  const retentionGap = async (s: PartitionState): Promise<boolean> => {
    let watermarks;
    try {
      watermarks = await retrying("read watermarks", readCtx, () => admin.fetchTopicOffsets(topic), kafkaRetry("read watermarks", kafkaRetryDeadlineMs));
    } catch (err) {
      fail(err as Error);
      return true;
    }
    const low = Number(watermarks.find((w) => w.partition === s.partition)?.low ?? 0);
    if (low <= s.nextOffset) return false;
    fail(new RetentionGapError(topic, [{ partition: s.partition, committedOffset: s.nextOffset, lowWatermark: low }]));
    return true;
  };

  const tickMs = Math.min(250, Math.max(20, Math.floor(limits.maxDelayMs / 4)));
  const ticker = setInterval(() => states.forEach(maybeFlush), tickMs);
  const untrackLag = metrics.trackLag(label, {
    heldBytes: () => [...states.values()].reduce((n, st) => n + heldCost(st), 0),
    memoryBudgetBytes: () => memoryBudget,
    lagMessages: () => [...states.values()].reduce((n, s) => n + Math.max(0, s.highWatermark - s.committed), 0),
    lagSeconds: () => {
      const now = Date.now();
      let oldest = now;
      for (const s of states.values()) oldest = Math.min(oldest, s.inflightSinceMs ?? s.buffer[0]?.timestampMs ?? now);
      return (now - oldest) / 1000;
    },
  });

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = () =>
    (shutdownPromise ??= (async () => {
      stopping = true;
      abort.abort();
      clearInterval(ticker);
      for (const s of states.values()) clearTimeout(s.dueTimer);
      untrackLag();
      await Promise.all([...states.values()].map((s) => s.flushing));
      // A partition start still reading offsets would reconnect the admin client after
      // its disconnect, and that socket would keep the process from exiting.
      await initialised;
      await consumer.disconnect().catch(() => {});
      await Promise.all([deadLetters.disconnect(), admin.disconnect()]).catch(() => {});
      await clickhouse.close();
    })());

  // Check every partition before the first fetch: a client that meets an out-of-range
  // offset resets to "earliest" by itself, and the evidence of the gap is gone.
  const precheck = await readOffsets().then(([, watermarks]) => initPartitions(watermarks.map((w) => w.partition))).then(
    () => true,
    (err: Error) => (fail(err), false),
  );
  // Only checked: ownership (and where each partition starts) is decided at the group join.
  states.clear();
  if (precheck) {
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachBatch });
    log.info("sink started", { sink: label, topic, groupId: sink.groupId, instanceId });
  }

  return {
    stop: async () => {
      await shutdown();
    },
    failed,
  };
}
