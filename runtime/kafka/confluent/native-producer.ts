/**
 * The producer half of the port on librdkafka's own produce() call (the binding's classic
 * API), without the KafkaJS-shaped layer of confluent/producer.ts. That layer makes a
 * promise, an opaque object and a metadata record per message, converts every message's
 * headers and merges per-partition results nobody reads; here a send is a number and a
 * counter, and each batch of delivery reports counts the sends down. Same librdkafka
 * settings, so the same guarantees: idempotent, acks=all, retried within the delivery
 * timeout (see producer.ts). It needs Sluice's patch to the binding (patches/README.md):
 * headers as one object, integer opaques without a handle each, reports in batches.
 */
import { createRequire } from "node:module";
import type * as Confluent from "@confluentinc/kafka-javascript";
import { jsonLogger } from "../../log.js";
import type { KafkaProducer, OutMessage, ProducerOptions } from "../port.js";
import { producerConfig } from "./producer.js";

const require = createRequire(import.meta.url);
const { Producer } = require("@confluentinc/kafka-javascript") as typeof Confluent;

/** One send: settles when every message it enqueued has its delivery report. */
interface Pending {
  left: number;
  error: unknown;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Send ids are the messages' opaques: the patched binding carries a number up to this without a handle each. */
const MAX_SEND_ID = 0x3fffffff;

export function confluentNativeProducer(brokers: string[], clientId: string, o: ProducerOptions = {}): KafkaProducer {
  const log = jsonLogger("kafka");
  const pending = new Map<number, Pending>();
  let lastId = 0;
  // Delivery reports come in batches (the patched binding's dr_batch_cb, patches/README.md):
  // one call with every outcome waiting, each message's opaque the id of its send.
  const delivered = (errors: (Error | null)[] | null, ids: number[]) => {
    let id = -1;
    let p: Pending | undefined;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== id) {
        id = ids[i]!;
        p = pending.get(id);
      }
      if (!p) continue;
      const err = errors?.[i];
      if (err && p.error === undefined) p.error = err;
      if (--p.left === 0) {
        pending.delete(id);
        settle(p);
      }
    }
  };
  // No topic config argument: given one, even {}, the binding replaces the default topic
  // config that the global one carries, and message.timeout.ms and the partitioner fell
  // back to librdkafka's defaults (a send to a stopped broker then hung for 5 minutes).
  const producer = new Producer({ ...producerConfig(brokers, clientId, o), dr_batch_cb: delivered } as never);
  producer.on("event.error", (err) => log.warn(err.message, { client: clientId }));
  return {
    connect: () =>
      new Promise<void>((resolve, reject) =>
        producer.connect({}, (err) => {
          if (err) return reject(err);
          // Delivery reports arrive from librdkafka's background thread, as they come.
          producer.setPollInBackground(true);
          resolve();
        }),
      ),
    send: ({ topic, messages }) =>
      new Promise<void>((resolve, reject) => {
        if (messages.length === 0) return resolve();
        const p: Pending = { left: messages.length, error: undefined, resolve, reject };
        lastId = lastId === MAX_SEND_ID ? 1 : lastId + 1;
        const id = lastId;
        pending.set(id, p);
        for (let i = 0; i < messages.length; i++) {
          const m = messages[i]!;
          try {
            producer.produce(topic, m.partition ?? -1, toBuffer(m.value), m.key ?? null, 0, id, m.headers as never);
          } catch (err) {
            // Not enqueued (a full queue, an unknown partition): this and the rest are not
            // sent; the send fails once the ones already enqueued have their reports.
            if (p.error === undefined) p.error = err;
            p.left -= messages.length - i;
            if (p.left === 0) {
              pending.delete(id);
              settle(p);
            }
            return;
          }
        }
      }),
    disconnect: () => new Promise<void>((resolve, reject) => producer.disconnect(5_000, (err: unknown) => (err ? reject(err) : resolve()))),
  };
}

function settle(p: Pending): void {
  if (p.error === undefined) p.resolve();
  else p.reject(p.error);
}

function toBuffer(v: OutMessage["value"]): Buffer | null {
  return typeof v === "string" ? Buffer.from(v) : v;
}
