/**
 * The reader half of the port on librdkafka's classic consumer: partitions are assigned by
 * hand at chosen offsets, so it never joins a group (no rebalance of a pipeline's workers)
 * and never commits. librdkafka still wants a group id; a random one is never used.
 */
import { randomUUID } from "node:crypto";
import type { InMessage, KafkaReader, ReadRecord } from "../port.js";
import { Rdkafka } from "./library.js";

/** As the patched binding hands it over (patches/README.md, consumer.ts). */
type RawMessage = { topic: string; partition: number; offset: number; key?: Buffer | null; value: Buffer | null; timestamp?: number; headers?: Record<string, string> };

export function confluentReader(brokers: string[], clientId: string): KafkaReader {
  const consumer = new Rdkafka.KafkaConsumer(
    {
      "bootstrap.servers": brokers.join(","),
      "client.id": clientId,
      "group.id": `sluice-reader-${randomUUID()}`,
      "enable.auto.commit": false,
      "enable.auto.offset.store": false,
      "allow.auto.create.topics": false,
    },
    {},
  );
  // Return as soon as a first record is there rather than filling `max` for the whole wait.
  // (The binding has the setter; its typings lack it.)
  (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
  return {
    connect: () => new Promise<void>((ok, fail) => consumer.connect({ timeout: 30_000 }, (err) => (err ? fail(err) : ok()))),
    assign: (topic, positions) => {
      consumer.assign(positions.map((p) => ({ topic, partition: p.partition, offset: Number(p.offset) })));
    },
    read: (max, waitMs) =>
      new Promise<ReadRecord[]>((ok, fail) => {
        consumer.setDefaultConsumeTimeout(waitMs);
        consumer.consume(max, (err, messages) => (err ? fail(err) : ok((messages as unknown as RawMessage[]).map(toRecord))));
      }),
    disconnect: () => new Promise<void>((ok) => consumer.disconnect(() => ok())),
  };
}

function toRecord(m: RawMessage): ReadRecord {
  const message: InMessage = { offset: String(m.offset), key: m.key ?? null, value: m.value ?? null, headers: m.headers ?? {}, timestamp: String(m.timestamp ?? -1) };
  return { topic: m.topic, partition: m.partition, message };
}
