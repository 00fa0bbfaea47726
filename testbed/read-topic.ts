/**
 * Reads a topic to its end as a read_committed consumer sees it. Counting offsets does not
 * work for topics written in transactions (each commit marker takes an offset), and waiting
 * for "enough" records cannot see extra ones: so a sentinel is written to every partition
 * after the writers are done, and the read ends when all of them are back. Records of
 * transactions committed before a sentinel are delivered before it.
 */
import type { InMessage, KafkaClient } from "../runtime/kafka/port.js";
import { waitFor } from "./poll.js";

const SENTINEL = "sluice-test-sentinel";

export async function readToEnd(kafka: KafkaClient, topic: string, { timeoutMs = 60_000 } = {}): Promise<InMessage[]> {
  const admin = kafka.admin();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: `read-to-end-${Math.random().toString(16).slice(2)}`, fromBeginning: true });
  await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
  const seen: InMessage[] = [];
  const back = new Set<number>();
  try {
    const partitions = (await admin.fetchTopicOffsets(topic)).map((p) => p.partition);
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async ({ partition, message }) => void (message.headers[SENTINEL] ? back.add(partition) : seen.push(message)) });
    for (const partition of partitions) await producer.send({ topic, messages: [{ key: null, value: "end", headers: { [SENTINEL]: "1" }, partition }] });
    await waitFor(`the end of ${topic}`, async () => (back.size === partitions.length ? true : undefined), { timeoutMs });
    return seen;
  } finally {
    await consumer.disconnect().catch(() => {});
    await Promise.all([producer.disconnect(), admin.disconnect()]).catch(() => {});
  }
}
