/**
 * A bare read loop on kafkajs 2.2.4 (see ../read-loop.ts), the consumer Sluice ran before
 * librdkafka: the benchmark's reference. kafkajs ships no lz4 codec, so it reads only
 * topics it can decompress (the benchmark gives it an uncompressed one).
 */
import kafkajs from "kafkajs";
import type { ReadLoopOptions } from "../read-loop.js";
import { silenceKafkajsNegativeTimeouts } from "./negative-timeout.js";

const { Kafka, logLevel } = kafkajs;

export async function kafkajsReadLoop(o: ReadLoopOptions): Promise<void> {
  silenceKafkajsNegativeTimeouts();
  const c = new Kafka({ clientId: o.clientId, brokers: o.brokers, logLevel: logLevel.NOTHING }).consumer({ groupId: o.groupId, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topic: o.topic, fromBeginning: true });
  let n = 0;
  await new Promise<void>((done) => {
    void c.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) if (n++ < o.records) o.onValue(m.value!);
        if (n >= o.records) done();
      },
    });
  });
  await c.disconnect();
}
