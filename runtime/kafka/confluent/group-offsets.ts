/**
 * Committing a consumer group's offsets from outside the group (`sluice replay`), on
 * librdkafka's classic consumer: it is given the group's id but never subscribes or is
 * assigned anything, so it never joins, and librdkafka sends its commit as a "simple
 * consumer" one (generation -1, no member id). Kafka stores such a commit only while the
 * group has no members and refuses it otherwise, so a live worker's position cannot be
 * moved under it. (kafkajs' admin.setOffsets instead joins the group as a member, which
 * would rebalance a worker that starts meanwhile, and it commits no metadata choice.)
 */
import type { CommitEntry } from "../port.js";
import { Rdkafka } from "./library.js";

export async function commitGroupOffsets(brokers: string[], clientId: string, groupId: string, offsets: CommitEntry[]): Promise<void> {
  if (offsets.length === 0) return;
  const consumer = new Rdkafka.KafkaConsumer(
    {
      "bootstrap.servers": brokers.join(","),
      "client.id": clientId,
      "group.id": groupId,
      "enable.auto.commit": false,
      "enable.auto.offset.store": false,
      "allow.auto.create.topics": false,
    },
    {},
  );
  await new Promise<void>((ok, fail) => consumer.connect({ timeout: 30_000 }, (err) => (err ? fail(err) : ok())));
  try {
    // Synchronous: it returns once the coordinator answered (a few ms), where the binding's
    // asynchronous commit only reports that the request was queued.
    consumer.commitSync(
      offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset), ...(o.metadata ? { metadata: o.metadata } : {}) })),
    );
  } catch (err) {
    throw new Error(`Kafka refused the offsets of group ${groupId}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    await new Promise<void>((ok) => consumer.disconnect(() => ok()));
  }
}
