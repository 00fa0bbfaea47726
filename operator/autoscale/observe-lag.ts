/**
 * One lag observation of a consumer group on a topic, from Kafka's admin API only: the
 * log-end offsets, the group's committed offsets and the group's state and members.
 *
 * The consumed position of a partition is its committed offset, except where the commit
 * metadata says the group has read further: an Aggregation commits below its open windows
 * (replay restarts there) and records in the metadata how far it has read ("n", see
 * runtime/aggregation-worker/checkpoint-metadata.ts). Counting from the commit would make
 * every open window look like lag. A partition the group never committed counts from its
 * oldest retained offset (what a new consumer would start from). A topic whose partitions
 * are not known yet (just created) gives no observation: the caller holds replicas.
 */
import type { KafkaAdmin as Admin } from "../../runtime/kafka/port.js";
import type { Observation } from "./replicas.js";

export async function observeLag(admin: Admin, groupId: string, topic: string, atMs: number): Promise<Observation> {
  // Asking kafkajs for offsets of a topic that does not exist yet makes it a metadata
  // target that fails every later refresh of this client: check first.
  if (!(await admin.listTopics()).includes(topic)) throw new Error(`topic ${topic} does not exist yet`);
  const [ends, committed, group] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] }), admin.describeGroup(groupId)]);
  // No partitions is not an end offset of 0: taken as one, the first real observation
  // after it would look like the whole topic arriving at once, and scale up for it.
  if (ends.length === 0) throw new Error(`topic ${topic} has no partition offsets yet (just created); lag is observed once its partitions are known`);
  const commits = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, readPosition(Number(p.offset), p.metadata)]));
  let end = 0;
  let position = 0;
  const partitionLag: number[] = [];
  for (const p of [...ends].sort((a, b) => a.partition - b.partition)) {
    const high = Number(p.high);
    const c = commits.get(p.partition) ?? -1;
    const at = c >= 0 ? Math.min(c, high) : Number(p.low);
    end += high;
    position += at;
    partitionLag.push(high - at);
  }
  return { atMs, end, position, partitionLag, group };
}

/** The committed offset, or the read position the commit metadata carries if further. */
export function readPosition(offset: number, metadata: string | null): number {
  if (offset < 0 || !metadata || !metadata.startsWith("{")) return offset;
  try {
    const n = (JSON.parse(metadata) as { n?: unknown }).n;
    return typeof n === "number" && Number.isFinite(n) && n > offset ? n : offset;
  } catch {
    return offset;
  }
}
