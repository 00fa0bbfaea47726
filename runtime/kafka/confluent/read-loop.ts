/**
 * Bare read loops on librdkafka (see ../read-loop.ts): through the port's own consumer
 * (consumer.ts, what the sink and the aggregation run: consume(n) plus per-partition
 * batches and the port's record shape) and through the binding's bare consume(n) call, the
 * floor of what the port's consumer can cost.
 */
import { confluentConsumer } from "./consumer.js";
import { fetchConfig } from "./fetch-config.js";
import { Rdkafka } from "./library.js";
import type { ReadLoopOptions } from "../read-loop.js";

export async function portReadLoop(o: ReadLoopOptions): Promise<void> {
  const c = confluentConsumer(o.brokers, o.clientId, { groupId: o.groupId, fromBeginning: true, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topics: [o.topic] });
  let n = 0;
  await new Promise<void>((done) => {
    void c.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) if (n++ < o.records) o.onValue(m.value!);
        if (n >= o.records) done();
      },
    });
  });
  await c.disconnect();
}

type Message = { value: Buffer | null };

export async function nativeReadLoop(o: ReadLoopOptions): Promise<void> {
  // The port consumer's fetch settings (consumer.ts), so only the layer differs. No topic
  // config argument: given one, the binding drops auto.offset.reset (see native-producer.ts).
  const c = new Rdkafka.KafkaConsumer({
    "bootstrap.servers": o.brokers.join(","),
    "client.id": o.clientId,
    "group.id": o.groupId,
    "enable.auto.commit": false,
    "auto.offset.reset": "earliest",
    ...fetchConfig(100),
  } as never);
  await new Promise<void>((resolve, reject) => c.connect({}, (err) => (err ? reject(err) : resolve())));
  c.subscribe([o.topic]);
  let n = 0;
  while (n < o.records) {
    const batch = await new Promise<Message[]>((resolve, reject) => c.consume(1_000, (err, m) => (err ? reject(err) : resolve(m as unknown as Message[]))));
    for (const m of batch) if (n++ < o.records) o.onValue(m.value!);
  }
  await new Promise<void>((resolve) => c.disconnect(() => resolve()));
}
