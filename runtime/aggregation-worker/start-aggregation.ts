/**
 * The aggregation worker: consumes a stream's topic as the aggregation's own consumer
 * group, folds events into one AggregationEngine (the watermark is the minimum over the
 * partitions this member owns), and every tick writes what the engine emitted, then
 * commits committableOffsets() with the checkpoint in the commit metadata (write-flush.ts).
 *
 * A rebalance starts a new session: the consumer resumes every assigned partition from
 * its committed offset after a rebalance (the eager protocol, see
 * kafka/confluent/consumer.ts), so the engine is rebuilt from the committed checkpoints
 * and anything not yet written is abandoned (the replay regenerates it).
 */
import { randomBytes } from "node:crypto";
import { clickhouseClient } from "../clickhouse/client.js";
import type { Batch, KafkaAdmin as Admin, KafkaConsumer, KafkaTransactionalProducer } from "../kafka/port.js";
import type { Registry } from "prom-client";
import { AggregationEngine, type Clock, type Output } from "../aggregate/engine.js";
import { detectServerFeatures } from "../clickhouse/server-version.js";
import { kafkaClient } from "../kafka/client.js";
import { ensureTopic } from "../kafka/ensure-topic.js";
import { topicConfigs } from "../kafka/topic-plan.js";
import { jsonLogger, type Logger } from "../log.js";
import { defaultBackoff, type BackoffOptions } from "../sink/backoff.js";
import { decodeRecord, type Poison } from "../sink/decode.js";
import { RetentionGapError, type PartitionGap } from "../sink/errors.js";
import { retrying, type RetryContext } from "../sink/retry.js";
import { checkpointFromCommits } from "./checkpoint-metadata.js";
import { ensureAggregationTables } from "./ensure-tables.js";
import type { CompiledAggregationJob } from "./job.js";
import { aggregationMetrics } from "./metrics.js";
import { RetryBoard } from "../sink/retry-board.js";
import { isAggregationKafkaStep, kafkaSteps, writeFlush, type FlushDeps } from "./write-flush.js";

export interface AggregationOptions {
  aggregation: CompiledAggregationJob;
  kafkaBrokers: string[];
  clickhouseUrl: string;
  registry: Registry;
  logger?: Logger;
  /** Processing time for idleness and early firings. Default: Date.now. */
  clock?: Clock;
  /** How often the engine is ticked and emitted rows are written, in ms. Default: 250. */
  tickMs?: number;
  /** Names this worker in Kafka client ids and logs. Default: random. */
  instanceId?: string;
  /** Retry schedule for ClickHouse and Kafka writes. Default: 200 ms doubling to 30 s. */
  backoff?: BackoffOptions;
  /** Where steps being retried are shown (the worker's /status); default: a private one. */
  retries?: RetryBoard;
  /** Emitted rows held while a write is in flight before fetching pauses. Default: 50,000. */
  maxPendingOutputs?: number;
  /** How long a batch past that limit waits for the write in flight before the client is paused. Default: 10 s. */
  pendingWaitMs?: number;
}

export interface AggregationHandle {
  /** Stops consuming and abandons unwritten rows (the next owner replays them). */
  stop(): Promise<void>;
  /** Rejects on an unrecoverable error; never resolves. */
  failed: Promise<never>;
}

/** Emitted rows held before the consumer pauses until a write finishes. */
const DEFAULT_MAX_PENDING_OUTPUTS = 50_000;
/** How long a batch waits for the write in flight, past the pending limit, before the client is paused. */
const DEFAULT_PENDING_WAIT_MS = 10_000;

/** One group generation: the engine and what it emitted that is not yet written. */
interface Session {
  gen: number;
  engine: AggregationEngine;
  /** Next offset to feed per partition; -1 before the first record of a never-committed partition. */
  next: Map<number, number>;
  outputs: Output[];
  poison: Poison[];
  /** Per partition: records below this were read before the checkpoint resumed from. */
  deadLetteredUpTo: Map<number, number>;
  flushing?: Promise<void>;
  lastCommitted?: string;
  paused: boolean;
  /** Partitions that delivered a record in this session. */
  reading: Set<number>;
}

export async function startAggregation(opts: AggregationOptions): Promise<AggregationHandle> {
  const job = opts.aggregation;
  const topic = job.stream.topic;
  const label = `${job.namespace}/${job.name}`;
  const instanceId = opts.instanceId ?? randomBytes(4).toString("hex");
  const log = opts.logger ?? jsonLogger("aggregation");
  const clock = opts.clock ?? Date.now;
  const tickMs = opts.tickMs ?? 250;
  const metrics = aggregationMetrics(opts.registry);
  const retries = opts.retries ?? new RetryBoard();
  const maxPendingOutputs = opts.maxPendingOutputs ?? DEFAULT_MAX_PENDING_OUTPUTS;
  const pendingWaitMs = opts.pendingWaitMs ?? DEFAULT_PENDING_WAIT_MS;
  /**
   * Partitions this worker paused that the client may still hold paused. librdkafka keeps an
   * application pause across an eager revocation and re-assignment, and a new session starts
   * unpaused, so a session superseded while paused would leave its partitions unread forever.
   */
  const clientPaused = new Set<number>();

  const clickhouse = clickhouseClient({ url: opts.clickhouseUrl, requestTimeoutMs: 30_000 });
  const features = await detectServerFeatures(clickhouse);
  await ensureAggregationTables(clickhouse, job, features);
  log.info("aggregation tables ready", { aggregation: label, table: `${job.output.database}.${job.output.table}`, clickhouse: features.version.text });

  const kafka = kafkaClient(opts.kafkaBrokers, `sluice-aggregation-${job.name}-${instanceId}`);
  const admin: Admin = kafka.admin();
  // Dead letters and late-topic messages go with the commit in one transaction
  // (write-flush.ts); connected on first use.
  const transactional: KafkaTransactionalProducer = kafka.transactionalProducer(`sluice-aggregation-${job.namespace}-${job.name}-${instanceId}`);
  const consumer: KafkaConsumer = kafka.consumer({ groupId: job.groupId, maxWaitTimeInMs: Math.min(500, tickMs * 2), onAssigned: (partitions) => onAssigned(partitions) });
  await Promise.all([admin.connect(), consumer.connect()]);
  if (job.late.policy === "Topic") await ensureLateTopic(admin, job, job.late.topic);

  let gen = 0;
  let session: Session | undefined;
  let initialised: Promise<Session | undefined> = Promise.resolve(undefined);
  const abort = new AbortController();
  let stopping = false;
  let failure: Error | undefined;
  let rejectFailed!: (e: Error) => void;
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => {});
  const fail = (err: Error) => {
    if (failure || stopping) return;
    failure = err;
    log.error("aggregation failed", { aggregation: label, error: err.message });
    rejectFailed(err);
    void shutdown();
  };
  const live = (s: Session) => !stopping && !failure && s.gen === gen;

  const deps: FlushDeps = {
    job, label, features, clickhouse, metrics, now: clock,
    commit: (offsets) => consumer.commitOffsets(offsets.map((o) => ({ topic, partition: o.partition, offset: String(o.offset), metadata: o.metadata }))),
    commitWithMessages: (records, offsets) => transactional.sendWithOffsets(consumer, records, offsets.map((o) => ({ topic, partition: o.partition, offset: String(o.offset), metadata: o.metadata }))),
  };
  // A step that is retrying is on the retry board (the worker's /status, the
  // Aggregation's Retrying condition) until it ends; a Kafka step also in
  // sluice_aggregation_kafka_retrying, and each retry in sluice_aggregation_kafka_retries_total.
  const noteRetry = (what: string, attempt: number, err: unknown, step: string | undefined): void => {
    const kafkaStep = isAggregationKafkaStep(step);
    retries.retrying(what, kafkaStep ? "kafka" : "clickhouse", step ?? what, attempt, err);
    if (!kafkaStep) return;
    metrics.kafkaRetries.inc({ aggregation: label, step });
    if (attempt === 1) metrics.kafkaRetrying.inc({ aggregation: label, step });
  };
  const retrySettled = (what: string, step: string | undefined): void => {
    if (retries.settled(what) && isAggregationKafkaStep(step)) metrics.kafkaRetrying.dec({ aggregation: label, step });
  };
  const noteSlow = (what: string, waitedMs: number, step: string | undefined): void => {
    retries.waiting(what, isAggregationKafkaStep(step) ? "kafka" : "clickhouse", step ?? what, waitedMs);
    log.warn("step has no answer yet", { aggregation: label, step: what, waitedMs });
  };
  const retryCtx = (s: Session): RetryContext => ({
    shouldContinue: () => live(s),
    signal: abort.signal,
    backoff: opts.backoff ?? defaultBackoff,
    onRetry: (what, attempt, err, delayMs, step) => {
      metrics.writeRetries.inc({ aggregation: label });
      noteRetry(what, attempt, err, step);
      log.warn("write failed, retrying", { aggregation: label, step: what, attempt, delayMs, error: (err as Error).message });
    },
    onSettled: retrySettled,
    onSlow: noteSlow,
  });

  /** Snapshot what was emitted and the checkpoint at the same instant, then write both. */
  const flush = (s: Session): void => {
    if (s.flushing || !live(s)) return;
    const checkpoint = s.engine.checkpoint();
    const key = JSON.stringify(checkpoint);
    if (s.outputs.length === 0 && s.poison.length === 0 && key === s.lastCommitted) return;
    const batch = { outputs: s.outputs.splice(0), poison: s.poison.splice(0), checkpoint };
    s.flushing = writeFlush(deps, batch, retryCtx(s))
      .then(() => void (s.lastCommitted = key))
      .catch((err: Error) => {
        if (err.name !== "Abandoned") fail(err);
      })
      .finally(() => {
        s.flushing = undefined;
        if (s.paused && live(s)) {
          s.paused = false;
          consumer.resume([{ topic }]);
          for (const q of s.next.keys()) clientPaused.delete(q);
        }
      });
  };

  const tick = (): void => {
    const s = session;
    if (!s || !live(s)) return;
    s.outputs.push(...s.engine.onTick(clock()));
    flush(s);
  };

  /** Reads the committed offsets and checkpoints of the assigned partitions; refuses a retention gap. */
  const newSession = async (g: number, partitions: number[]): Promise<Session | undefined> => {
    // Read at every rebalance, often while a broker is failing: retried until this session
    // is superseded or the worker stops, unless waiting cannot help (write-flush.ts kafkaSteps).
    const readCtx: RetryContext = {
      shouldContinue: () => g === gen && !stopping && !failure,
      signal: abort.signal,
      backoff: opts.backoff ?? defaultBackoff,
      onRetry: (what, attempt, err, delayMs, step) => {
        noteRetry(what, attempt, err, step);
        log.warn("reading offsets failed, retrying", { aggregation: label, step: what, attempt, delayMs, error: (err as Error).message });
      },
      onSettled: retrySettled,
    onSlow: noteSlow,
    };
    const [[committed], lows] = await retrying("read committed offsets and watermarks", readCtx, () =>
      Promise.all([admin.fetchOffsets({ groupId: job.groupId, topics: [topic] }), admin.fetchTopicOffsets(topic)]),
    { ...kafkaSteps, step: "read offsets" });
    const mine = partitions.map((p) => {
      const c = committed?.partitions.find((x) => x.partition === p);
      return { partition: p, offset: c ? Number(c.offset) : -1, metadata: c?.metadata };
    });
    const gaps: PartitionGap[] = [];
    for (const c of mine) {
      const low = Number(lows.find((w) => w.partition === c.partition)?.low ?? 0);
      if ((c.offset >= 0 && c.offset < low) || c.offset < -1) gaps.push({ partition: c.partition, committedOffset: c.offset, lowWatermark: low });
    }
    if (gaps.length > 0) throw new RetentionGapError(topic, gaps);
    const resume = checkpointFromCommits(mine);
    const engine = new AggregationEngine(job.engine, clock, resume);
    engine.assign(partitions);
    if (g !== gen) return undefined;
    const deadLetteredUpTo = new Map(Object.entries(resume?.partitions ?? {}).map(([p, c]) => [Number(p), c.nextOffset]));
    session = { gen: g, engine, next: new Map(mine.map((c) => [c.partition, c.offset])), outputs: [], poison: [], deadLetteredUpTo, paused: false, reading: new Set() };
    const stillPaused = partitions.filter((p) => clientPaused.has(p));
    if (stillPaused.length > 0) {
      try {
        consumer.resume([{ topic, partitions: stillPaused }]);
        for (const q of stillPaused) clientPaused.delete(q);
      } catch (err) {
        log.warn("resuming partitions paused under an earlier session failed", { aggregation: label, partitions: stillPaused, error: (err as Error).message });
      }
    }
    log.info("session started", { aggregation: label, partitions, resume: resume ?? null });
    return session;
  };

  const onAssigned = (partitions: number[]): void => {
    const g = ++gen;
    session = undefined;
    initialised = newSession(g, partitions).catch((err: Error) => {
      if (err.name !== "Abandoned") fail(err);
      return undefined;
    });
    log.info("partitions assigned", { aggregation: label, partitions });
  };

  const eachBatch = async ({ batch }: { batch: Batch }): Promise<void> => {
    const g = gen;
    const s = await initialised;
    if (!s || s.gen !== g || !live(s)) return;
    const p = batch.partition;
    const next = s.next.get(p);
    if (next === undefined) return;
    let at = next;
    let read = 0;
    // The first record of each partition in a session, against where the session starts it:
    // after a rebalance these must meet, and a jump is the one thing the replay cannot
    // recover from, so it is in the log.
    if (!s.reading.has(p) && batch.messages.length > 0) {
      s.reading.add(p);
      log.info("partition read from", { aggregation: label, partition: p, committed: next, first: Number(batch.messages[0]!.offset) });
    }
    for (const m of batch.messages) {
      const offset = Number(m.offset);
      if (offset < at) continue;
      read++;
      const record = { partition: p, offset, key: m.key, value: m.value, headers: m.headers, timestampMs: Number(m.timestamp) };
      const d = decodeRecord(job.stream, record);
      // A poison record below the checkpoint's read position was dead-lettered in the
      // transaction that committed that checkpoint: the replay must not send it again.
      if (!d.ok) {
        if (offset >= (s.deadLetteredUpTo.get(p) ?? 0)) s.poison.push(d.poison);
      }
      else {
        const dupBefore = s.engine.duplicates;
        const out = s.engine.onEvent({ partition: p, offset, eventId: d.value.eventId, eventTimeMs: d.value.eventTimeMs, row: d.value.row });
        for (const o of out) s.outputs.push(o);
        if (s.engine.duplicates > dupBefore) metrics.duplicates.inc({ aggregation: label }, s.engine.duplicates - dupBefore);
      }
      at = offset + 1;
    }
    s.next.set(p, at);
    if (read > 0) metrics.eventsRead.inc({ aggregation: label }, read);
    // Past the limit while a write is in flight: first wait for that write here, which holds
    // back the next batches without touching the client. A paused and resumed partition was
    // at times never fetched again (the aggregation bench, sliding windows over 12
    // partitions, stalled with one partition unread in three runs of three once the engine
    // got fast enough to reach the limit), so the client is paused only for a write that
    // hangs past this wait (ClickHouse down), where holding the batch would stop the group's
    // rebalances too.
    if (s.outputs.length > maxPendingOutputs && s.flushing && !s.paused) {
      metrics.writeWaits.inc({ aggregation: label });
      const inFlight = s.flushing;
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([inFlight, new Promise<void>((r) => (waited = setTimeout(r, pendingWaitMs)))]);
      clearTimeout(waited);
    }
    if (s.outputs.length > maxPendingOutputs && s.flushing && !s.paused && live(s)) {
      s.paused = true;
      metrics.fetchPauses.inc({ aggregation: label });
      consumer.pause([{ topic }]);
      for (const q of s.next.keys()) clientPaused.add(q);
      log.info("fetching paused until the write in flight ends", { aggregation: label, pendingRows: s.outputs.length });
    }
  };

  const ticker = setInterval(tick, tickMs);
  const untrack = metrics.track(label, {
    watermarkLagSeconds: () => {
      const w = session?.engine.currentWatermarkMs();
      return w === undefined || !Number.isFinite(w) ? undefined : Math.max(0, clock() - w) / 1000;
    },
    openWindows: () => session?.engine.stateSize().windows ?? 0,
    stateKeys: () => session?.engine.stateSize().groups ?? 0,
    stateEventIds: () => session?.engine.stateSize().eventIds ?? 0,
  });

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = () =>
    (shutdownPromise ??= (async () => {
      stopping = true;
      abort.abort();
      clearInterval(ticker);
      untrack();
      await session?.flushing;
      // A session start still reading offsets would reconnect the admin client after its
      // disconnect, and that socket would keep the process from exiting.
      await initialised;
      await consumer.disconnect().catch(() => {});
      await Promise.all([transactional.disconnect(), admin.disconnect()]).catch(() => {});
      await clickhouse.close();
    })());

  await consumer.subscribe({ topics: [topic] });
  await consumer.run({ eachBatch });
  log.info("aggregation started", { aggregation: label, topic, groupId: job.groupId, instanceId });

  return { stop: shutdown, failed };
}

/**
 * Late events are rare and wait for reconciliation: a few partitions (fixed: the operator
 * leaves the stream's partition count out of worker configs), the stream's retention.
 */
const LATE_TOPIC_PARTITIONS = 3;

async function ensureLateTopic(admin: Admin, job: CompiledAggregationJob, name: string): Promise<void> {
  const brokers = (await admin.describeCluster()).brokers.length;
  const rf = Math.min(job.stream.replicationFactor, brokers);
  await ensureTopic(admin, {
    name,
    partitions: LATE_TOPIC_PARTITIONS,
    replicationFactor: rf,
    configs: topicConfigs({ ...job.stream, minInSyncReplicas: Math.min(job.stream.minInSyncReplicas, rf) }),
  });
}
