/**
 * The reader half of the port on librdkafka's classic consumer: partitions are assigned by
 * hand at chosen offsets, so it never joins a group (no rebalance of a pipeline's workers)
 * and never commits. librdkafka still wants a group id; a random one is never used.
 */
import { randomUUID } from "node:crypto";
import type { InMessage, KafkaReader, ReadRecord } from "../port.js";
import { Rdkafka } from "./library.js";

type RawMessage = { topic: string; partition: number; offset: number; key?: Buffer | string | null; value: Buffer | null; timestamp?: number; headers?: Record<string, unknown>[] };

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
  const headers: Record<string, string> = {};
  for (const h of m.headers ?? []) {
    for (const [k, v] of Object.entries(h)) headers[k] = Buffer.isBuffer(v) ? v.toString("utf8") : String(v);
  }
  const key = m.key === undefined || m.key === null ? null : Buffer.isBuffer(m.key) ? m.key : Buffer.from(m.key);
  const message: InMessage = { offset: String(m.offset), key, value: m.value ?? null, headers, timestamp: String(m.timestamp ?? -1) };
  return { topic: m.topic, partition: m.partition, message };
}
