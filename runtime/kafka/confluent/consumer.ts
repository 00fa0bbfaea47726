/**
 * The consumer half of the port on librdkafka, through the binding's classic (node-rdkafka)
 * API: `consume(n)` in the binding's worker thread, records grouped by partition into the
 * port's batches. The binding's KafkaJS-shaped layer did the same with a message cache,
 * header objects and per-message promises on top, and its reading alone cost more than our
 * sink's whole work per record (runtime/kafka/README.md, `make bench`'s consumer rows).
 *
 * Auto-commit is off: Sluice commits only what its sink acknowledged, with metadata. The
 * eager rebalance protocol is used on purpose: after every rebalance each assigned
 * partition restarts from its committed offset, which is what the sink's and the
 * aggregation's replay logic is written for (a cooperative rebalance would keep the
 * positions of partitions that stay, past what was committed).
 */
import type { Batch, ConsumerOptions, InMessage, KafkaConsumer, RunOptions } from "../port.js";
import { jsonLogger } from "../../log.js";
import { Rdkafka } from "./library.js";
import { CallSize } from "./call-size.js";
import { fetchConfig } from "./fetch-config.js";
import { RebalanceGate } from "./rebalance-gate.js";

const ASSIGN = -175; // RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS
const NOT_COORDINATOR = 16; // RD_KAFKA_RESP_ERR_NOT_COORDINATOR
/**
 * Records per consume() call at most, split into one batch per partition (fewer while the
 * worker is starved of CPU: call-size.ts). Measured on a 12-partition
 * lz4 topic (the port's read loop, 200k records, two runs each, records per CPU-second):
 * 1,000 per call 57k/55k, 3,000 48k/55k, 10,000 46k/45k; the larger results are promoted
 * by V8 before they are read, and the sink's RSS at 80% load rose from 388 to 525 MiB with
 * them in `make bench`. The cost of the small calls falls on a reader that waits on each
 * batch (the bench's bare consume+insert loop: one insert per ~80 records over 12
 * partitions); the sink and the aggregation never wait on a write inside a batch.
 */
const BATCH = 1_000;

type Native = InstanceType<typeof Rdkafka.KafkaConsumer>;
type Toppar = { topic: string; partition: number };
/**
 * A message as the patched binding hands it over (patches/README.md): headers one object of
 * strings, first value of a name kept, none without a value; key and value views of the
 * consume call's one buffer.
 */
type RawMessage = Toppar & { offset: number; key?: Buffer | null; value: Buffer | null; timestamp?: number; headers?: Record<string, string> };

/** Our port's consumer → the binding's, for transactions that commit its offsets. */
const natives = new WeakMap<KafkaConsumer, Native>();
export function nativeConsumer(c: KafkaConsumer): Native {
  const n = natives.get(c);
  if (!n) throw new Error("not a librdkafka consumer: transactions need the consumer they commit for");
  return n;
}

export function confluentConsumer(brokers: string[], clientId: string, o: ConsumerOptions): KafkaConsumer {
  const log = jsonLogger("kafka");
  const sessionTimeoutMs = o.sessionTimeoutMs ?? 30_000;
  const gate = new RebalanceGate();
  let topics: string[] = [];
  let assigned: Toppar[] = [];
  // Counts applied assignments, so a repair queued for one never replaces a later one.
  let generation = 0;
  const owned = new Set<string>();

  const consumer: Native = new Rdkafka.KafkaConsumer(
    {
      "bootstrap.servers": brokers.join(","),
      "client.id": clientId,
      "group.id": o.groupId,
      "enable.auto.commit": false,
      "enable.auto.offset.store": false,
      "auto.offset.reset": o.fromBeginning === false ? "latest" : "earliest",
      "session.timeout.ms": sessionTimeoutMs,
      "heartbeat.interval.ms": Math.max(500, Math.floor(sessionTimeoutMs / 5)),
      "partition.assignment.strategy": "range,roundrobin",
      "allow.auto.create.topics": false,
      // Bounded prefetch, and a short backoff at its bounds (fetch-config.ts).
      ...fetchConfig(o.maxWaitTimeInMs ?? 500),
      // librdkafka serves rebalances inside consume(), in the binding's worker thread, and
      // the binding hands them to this callback later, on the main thread: the gate applies
      // them between two consume() results, never in the middle of one (rebalance-gate.ts).
      rebalance_cb: (err: { code: number } | undefined, assignment: Toppar[]) => {
        const assign = err?.code === ASSIGN;
        gate.apply(() => applyAssignment(assign ? assignment : undefined));
      },
    } as never,
    // No topic config argument: given one, the binding drops auto.offset.reset above.
  );
  /** An assignment (or, undefined, a revocation) as the worker sees it: applied, then reported. */
  function applyAssignment(assignment: Toppar[] | undefined): void {
    generation++;
    if (!assignment) o.onRevoked?.();
    try {
      if (assignment) consumer.assign(assignment);
      else consumer.unassign();
    } catch (e) {
      // Only when the client is already closing: nothing is delivered after this.
      log.info("rebalance not applied", { client: clientId, error: (e as Error).message });
    }
    assigned = assignment ? assignment.filter((a) => topics.includes(a.topic)) : [];
    owned.clear();
    for (const a of assigned) owned.add(key(a.topic, a.partition));
    if (assignment) o.onAssigned?.(assigned.map((a) => a.partition));
  }
  // A record's wait counts only until the first one; then the call takes what is there.
  (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
  consumer.setDefaultConsumeTimeout(o.maxWaitTimeInMs ?? 500);
  // Without a listener the binding's EventEmitter would throw on a client error; the
  // client retries those itself (a broker down, a coordinator moving).
  consumer.on("event.error", (err: { message: string }) => log.info("kafka client error", { client: clientId, error: err.message }));

  let running = false;
  let loop: Promise<void> = Promise.resolve();
  const size = new CallSize(BATCH);
  const consumeOnce = () =>
    new Promise<RawMessage[]>((resolve, reject) => consumer.consume(size.current, (err, messages) => (err ? reject(err) : resolve(messages as unknown as RawMessage[]))));
  // Between two batches the event loop serves what waited (probes, metrics scrapes, timers).
  const yieldToIo = () => new Promise<void>((r) => setImmediate(r));

  const readLoop = async ({ eachBatch, eachMessage }: RunOptions): Promise<void> => {
    let lastError = "";
    while (running) {
      gate.enter();
      try {
        let messages: RawMessage[];
        try {
          messages = await consumeOnce();
        } catch (err) {
          // A consume error is the client's state (a broker down, a poll interval missed):
          // librdkafka recovers, rejoining when it must. Logged once per kind.
          const message = (err as Error).message;
          if (message !== lastError) log.warn("kafka consume failed, retrying", { client: clientId, error: message });
          lastError = message;
          if ((err as { code?: number }).code === NOT_COORDINATOR && assigned.length > 0) repairAssignment();
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        lastError = "";
        const handlingStarted = performance.now();
        for (const run of byPartition(messages, owned)) {
          // A handler that throws gets the same records again, after a backoff, before any
          // later ones (the KafkaJS-shaped layer sought back for the same effect): nothing
          // is skipped, and a handler that keeps failing stops this member's reading, which
          // its lag shows, until librdkafka's poll interval hands its partitions on.
          for (let attempt = 1; running; attempt++) {
            try {
              if (eachBatch) await eachBatch({ batch: toBatch(consumer, run) });
              else if (eachMessage) for (const m of run) await eachMessage({ topic: m.topic, partition: m.partition, message: toMessage(m) });
              break;
            } catch (err) {
              const delayMs = Math.min(5_000, 100 * 2 ** Math.min(attempt, 6));
              log.error("kafka batch handler failed, delivering the batch again", { client: clientId, partition: run[0]!.partition, offset: run[0]!.offset, attempt, delayMs, error: (err as Error).message });
              await new Promise((r) => setTimeout(r, delayMs));
            }
          }
          if (!running) break;
          await yieldToIo();
        }
        size.observe(messages.length, performance.now() - handlingStarted);
      } finally {
        gate.leave();
      }
    }
  };

  /**
   * librdkafka fetches an assignment's committed offsets from the group coordinator before
   * it fetches any record. When that request meets a coordinator that has just moved (a
   * broker killed or restarted), the broker answers NOT_COORDINATOR for the whole request;
   * librdkafka reports it as a consumer error and then neither retries nor starts the
   * partitions' fetchers (confluentinc/librdkafka#5586, open for 2.15). The member stays in
   * the group with nothing to read, silently, until a restart: the sink in
   * test/e2e/broker-faults.test.ts stopped writing after a broker's SIGKILL in CI runs on
   * Kafka 4.1.1. Assigning the same partitions again makes librdkafka query the offsets
   * again, from the coordinator it has since looked up. The worker is told as after a
   * rebalance (onAssigned): each partition restarts from its committed offset either way.
   * test/integration/kafka-consumer.test.ts plays the broker's NOT_COORDINATOR through a proxy.
   */
  const repairAssignment = () => {
    const of = generation;
    const again = assigned;
    gate.apply(() => {
      if (generation !== of || !running) return; // a rebalance came first, or closing
      log.warn("kafka committed offsets not fetched; assigning the partitions again", { client: clientId, partitions: again.map((a) => a.partition) });
      applyAssignment(again);
    });
  };

  const expand = (list: { topic: string; partitions?: number[] }[]): Toppar[] =>
    list.flatMap(({ topic, partitions }) => (partitions ?? assigned.filter((a) => a.topic === topic).map((a) => a.partition)).map((partition) => ({ topic, partition })));

  const port: KafkaConsumer = {
    connect: () => new Promise<void>((ok, fail) => consumer.connect({ timeout: 30_000 }, (err) => (err ? fail(err) : ok()))),
    subscribe: async (s) => {
      topics = s.topics;
      consumer.subscribe(s.topics);
    },
    run: async (r) => {
      running = true;
      loop = readLoop(r).catch((err: Error) => log.error("kafka read loop stopped", { client: clientId, error: err.message }));
    },
    pause: (list) => {
      const tps = expand(list);
      if (tps.length > 0) consumer.pause(tps);
    },
    resume: (list) => {
      const tps = expand(list);
      if (tps.length > 0) consumer.resume(tps);
    },
    commitOffsets: (offsets) =>
      new Promise<void>((ok, fail) => {
        const tps = offsets.map((c) => ({ topic: c.topic, partition: c.partition, offset: Number(c.offset), ...(c.metadata ? { metadata: c.metadata } : {}) }));
        // commitCb (the binding has it; its typings lack it) reports the broker's answer.
        (consumer as unknown as { commitCb(t: unknown[], cb: (err: unknown) => void): void }).commitCb(tps, (err) => (err ? fail(err) : ok()));
      }),
    disconnect: async () => {
      running = false;
      await loop;
      // Rebalances during close (the revocation) are applied at once: nothing reads any more.
      gate.close();
      if (!consumer.isConnected()) return;
      await new Promise<void>((ok) => consumer.disconnect(() => ok()));
    },
  };
  natives.set(port, consumer);
  return port;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * One consume() result as per-partition runs in arrival order. Records of a partition this
 * member does not own are dropped: its owner reads them from the committed offset.
 */
function byPartition(messages: RawMessage[], owned: Set<string>): RawMessage[][] {
  const runs = new Map<string, RawMessage[]>();
  for (const m of messages) {
    const k = key(m.topic, m.partition);
    if (!owned.has(k)) continue;
    let run = runs.get(k);
    if (!run) runs.set(k, (run = []));
    run.push(m);
  }
  return [...runs.values()];
}

function toBatch(consumer: Native, run: RawMessage[]): Batch {
  const first = run[0]!;
  let high = run[run.length - 1]!.offset + 1;
  try {
    // The log-end offset of the last fetch response, cached by librdkafka.
    high = Math.max(high, Number(consumer.getWatermarkOffsets(first.topic, first.partition).highOffset));
  } catch {
    // None cached yet: the batch's own end is the best known.
  }
  return {
    topic: first.topic,
    partition: first.partition,
    highWatermark: String(high),
    messages: run.map(toMessage),
    firstOffset: () => String(first.offset),
  };
}

function toMessage(m: RawMessage): InMessage {
  return { offset: String(m.offset), key: m.key ?? null, value: m.value ?? null, headers: m.headers ?? {}, timestamp: String(m.timestamp ?? -1) };
}
