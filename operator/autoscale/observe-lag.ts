/**
 * One lag sample of a consumer group on a topic: newest offsets against committed ones,
 * summed over partitions. A partition the group never committed counts from its oldest
 * retained offset (what a new consumer would start from).
 */
import type { KafkaAdmin as Admin } from "../../runtime/kafka/port.js";
import type { LagSample } from "./replicas.js";

export async function observeLag(admin: Admin, groupId: string, topic: string, atMs: number): Promise<LagSample> {
  // Asking kafkajs for offsets of a topic that does not exist yet makes it a metadata
  // target that fails every later refresh of this client: check first.
  if (!(await admin.listTopics()).includes(topic)) throw new Error(`topic ${topic} does not exist yet`);
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const commits = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  let produced = 0;
  let consumed = 0;
  for (const p of ends) {
    const high = Number(p.high);
    const c = commits.get(p.partition) ?? -1;
    produced += high;
    consumed += c >= 0 ? Math.min(c, high) : Number(p.low);
  }
  return { atMs, produced, consumed };
}
