/**
 * The consumer half of the port on librdkafka (the KafkaJS-shaped API of Confluent's
 * binding). Auto-commit is off: Sluice commits only what its sink acknowledged, with
 * metadata. The eager rebalance protocol is used on purpose: after every rebalance each
 * assigned partition restarts from its committed offset, which is what the sink's and the
 * aggregation's replay logic is written for (a cooperative rebalance would keep the
 * positions of partitions that stay, past what was committed).
 */
import type { Batch, ConsumerOptions, InMessage, KafkaConsumer, RunOptions } from "../port.js";
import { KafkaJS, quietLogger } from "./library.js";

const ASSIGN = -175; // RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS

/** Our port's consumer → the binding's, for transactions that commit its offsets. */
const natives = new WeakMap<KafkaConsumer, unknown>();
export function nativeConsumer(c: KafkaConsumer): unknown {
  const n = natives.get(c);
  if (!n) throw new Error("not a librdkafka consumer: transactions need the consumer they commit for");
  return n;
}

type RawMessage = { offset: string; key: Buffer | null; value: Buffer | null; timestamp: string; headers?: Record<string, unknown> };

export function confluentConsumer(brokers: string[], clientId: string, o: ConsumerOptions): KafkaConsumer {
  const sessionTimeoutMs = o.sessionTimeoutMs ?? 30_000;
  const consumer = new KafkaJS.Kafka({}).consumer({
    "bootstrap.servers": brokers.join(","),
    "client.id": clientId,
    "group.id": o.groupId,
    "enable.auto.commit": false,
    "auto.offset.reset": o.fromBeginning === false ? "latest" : "earliest",
    "session.timeout.ms": sessionTimeoutMs,
    "heartbeat.interval.ms": Math.max(500, Math.floor(sessionTimeoutMs / 5)),
    "fetch.wait.max.ms": o.maxWaitTimeInMs ?? 500,
    "partition.assignment.strategy": "range,roundrobin",
    "allow.auto.create.topics": false,
    // The binding hands eachBatch at most 32 records by default; our per-batch work
    // (bookkeeping, a flush check) is then paid every 32 records. Measured with
    // `BENCH_ONLY=sink make bench`: see runtime/kafka/README.md.
    "js.consumer.max.batch.size": 1_000,
    // Bounded prefetch. librdkafka's defaults keep up to 100,000 records per partition and
    // 64 MiB queued, plus 50 MiB fetch responses: a worker that starts on a backlog (a new
    // sink, a replay, the minutes after an outage) held hundreds of MiB in native memory
    // besides its own buffers, and pods with a 512Mi limit were OOM-killed at every restart
    // (test/e2e/on-node.test.ts, Kafka cut off from a sink under load).
    "queued.min.messages": 10_000,
    "queued.max.messages.kbytes": 16_384,
    "fetch.max.bytes": 8 << 20,
    rebalance_cb: (err: { code: number }, assignment: { topic: string; partition: number }[]) => {
      if (err.code === ASSIGN) o.onAssigned?.(assignment.map((a) => a.partition));
    },
    kafkaJS: { logger: quietLogger(clientId) as never },
  } as never);

  const port: KafkaConsumer = {
    connect: () => consumer.connect(),
    subscribe: ({ topics }) => consumer.subscribe({ topics }),
    run: async ({ eachBatch, eachMessage }: RunOptions) => {
      if (eachBatch) {
        await consumer.run({
          eachBatch: async ({ batch }) => {
            const mine: Batch = {
              topic: batch.topic,
              partition: batch.partition,
              highWatermark: batch.highWatermark,
              messages: batch.messages.map((m) => toMessage(m as unknown as RawMessage)),
              firstOffset: () => batch.messages[0]?.offset ?? "-1",
            };
            await eachBatch({ batch: mine });
          },
        });
      } else if (eachMessage) {
        await consumer.run({
          eachMessage: async ({ topic, partition, message }) => eachMessage({ topic, partition, message: toMessage(message as unknown as RawMessage) }),
        });
      }
    },
    pause: (topics) => consumer.pause(topics),
    resume: (topics) => consumer.resume(topics),
    commitOffsets: (offsets) => consumer.commitOffsets(offsets.map((c) => ({ topic: c.topic, partition: c.partition, offset: c.offset, metadata: c.metadata ?? null }))),
    disconnect: () => consumer.disconnect(),
  };
  natives.set(port, consumer);
  return port;
}

function toMessage(m: RawMessage): InMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined || v === null) continue;
    const first = Array.isArray(v) ? v[0] : v;
    headers[k] = Buffer.isBuffer(first) ? first.toString("utf8") : String(first);
  }
  return { offset: m.offset, key: m.key ?? null, value: m.value ?? null, headers, timestamp: m.timestamp };
}
