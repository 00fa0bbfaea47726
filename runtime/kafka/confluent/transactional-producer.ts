/**
 * The transactional half of the port on librdkafka: records plus a consumer group's
 * offsets in one transaction (see KafkaTransactionalProducer in port.ts). A failed
 * transaction is aborted and the producer replaced: after a fencing or fatal error
 * librdkafka refuses every further call, and a new transactional session costs one
 * InitProducerId, which is rare next to the records it protects.
 */
import type { CommitEntry, KafkaConsumer, KafkaTransactionalProducer } from "../port.js";
import { toRecord } from "./producer.js";
import { failpoint } from "../../failpoints.js";
import { nativeConsumer } from "./consumer.js";
import { KafkaJS, quietLogger } from "./library.js";

type Native = ReturnType<InstanceType<typeof KafkaJS.Kafka>["producer"]>;

export function confluentTransactionalProducer(brokers: string[], clientId: string, transactionalId: string): KafkaTransactionalProducer {
  const make = (): Native =>
    new KafkaJS.Kafka({}).producer({
      "bootstrap.servers": brokers.join(","),
      "client.id": clientId,
      "transactional.id": transactionalId,
      "enable.idempotence": true,
      acks: -1,
      // message.timeout.ms defaults to the transaction timeout (it may not exceed it).
      // A crashed writer's open transaction blocks read_committed readers of its records and,
      // worse, the next owner's read of the group's committed offset (a pending offset commit
      // is unstable) until the coordinator aborts it, after this long. One transaction here is
      // one batch's dead letters and offset, well under a second.
      "transaction.timeout.ms": 10_000,
      // librdkafka requires it at most the transaction timeout (+100 ms).
      "socket.timeout.ms": 10_000,
      "linger.ms": 5,
      partitioner: "murmur2_random",
      "allow.auto.create.topics": false,
      kafkaJS: { logger: quietLogger(clientId) as never },
    } as never);
  let producer: Native | undefined;
  let connecting: Promise<Native> | undefined;
  const ready = () =>
    (connecting ??= (async () => {
      const p = make();
      await p.connect();
      producer = p;
      return p;
    })().catch((err: unknown) => {
      connecting = undefined;
      throw err;
    }));
  const replace = async () => {
    const old = producer;
    producer = undefined;
    connecting = undefined;
    await old?.disconnect().catch(() => {});
  };

  // One transaction at a time per producer: partitions' batches finish concurrently, and
  // each waits its turn (a transaction is a few milliseconds to a broker).
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(f: () => Promise<T>): Promise<T> => {
    const next = queue.then(f, f);
    queue = next.catch(() => {});
    return next;
  };

  return {
    connect: async () => void (await ready()),
    sendWithOffsets: (consumer: KafkaConsumer, records, offsets) => serially(async () => {
      const p = await ready();
      await p.transaction();
      try {
        for (const { topic, messages } of records) if (messages.length > 0) await p.send({ topic, messages: messages.map(toRecord) });
        await sendOffsets(p, consumer, offsets);
        failpoint("kafka.transaction-before-commit");
        await p.commit();
      } catch (err) {
        await p.abort().catch(() => {});
        await replace();
        throw err;
      }
    }),
    disconnect: () => serially(() => replace()),
  };
}

/**
 * The binding's KafkaJS-shaped sendOffsets drops commit metadata, which the aggregation
 * worker's checkpoint lives in; its underlying producer passes offsets to librdkafka as
 * given (metadata included, with the NUL the C++ side appends; kafkajs/admin.ts strips it).
 */
function sendOffsets(p: Native, consumer: KafkaConsumer, offsets: CommitEntry[]): Promise<void> {
  type Internal = { sendOffsetsToTransaction(o: unknown[], c: unknown, timeoutMs: number, cb: (err: unknown) => void): void };
  const producer = (p as unknown as { _getInternalClient(): Internal })._getInternalClient();
  const native = nativeConsumer(consumer);
  const tps = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset), ...(o.metadata ? { metadata: o.metadata } : {}) }));
  return new Promise((resolve, reject) => producer.sendOffsetsToTransaction(tps, native, 10_000, (err) => (err ? reject(err instanceof Error ? err : new Error(String((err as { message?: string }).message ?? err))) : resolve())));
}
