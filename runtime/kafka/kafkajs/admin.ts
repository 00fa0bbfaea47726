/**
 * The admin half of the port on kafkajs. Admin calls are single request/response
 * exchanges that our reconcilers retry as a whole, so they carry none of the producer's
 * retry-state defects (tulios/kafkajs#1303, #598) that made us move produce and consume
 * to librdkafka. They stay here because librdkafka's JavaScript binding (1.10) exposes no
 * DescribeConfigs/AlterConfigs, which config-drift correction needs.
 */
import kafkajs, { type Admin } from "kafkajs";
import { isRetriableAdminError } from "../errors.js";
import type { KafkaAdmin } from "../port.js";
import { silenceKafkajsNegativeTimeouts } from "./negative-timeout.js";

// kafkajs is CommonJS and Node's ESM loader cannot see this enum as a named export.
const { AssignerProtocol, ConfigResourceTypes, Kafka, logLevel } = kafkajs;

export function kafkajsAdmin(brokers: string[], clientId: string): KafkaAdmin {
  silenceKafkajsNegativeTimeouts();
  // kafkajs logs every retried protocol error at ERROR (a new topic's leaders being
  // elected, say); what a call finally fails with reaches its caller, who reports it.
  const admin: Admin = new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 } }).admin();
  // kafkajs reconnects lazily on any request, even after disconnect(); a call made after
  // it would leave an open socket that keeps the process alive, so it is refused instead.
  let closed = false;
  const open = <T>(call: () => Promise<T>): Promise<T> => (closed ? Promise.reject(new Error("the Kafka admin client was disconnected")) : call());
  // Reads are asked again on a passing cluster state (errors.ts): kafkajs gives up on
  // NOT_COORDINATOR at once, which killed a sink starting on a fresh cluster.
  const read = <T>(call: () => Promise<T>): Promise<T> => retrying(() => open(call), () => closed);
  return {
    connect: () => admin.connect(),
    disconnect: () => {
      closed = true;
      return admin.disconnect();
    },
    listTopics: () => read(() => admin.listTopics()),
    fetchTopicMetadata: (o) => read(() => admin.fetchTopicMetadata(o)),
    createTopics: (o) => open(() => admin.createTopics(o)),
    createPartitions: (o) => open(() => admin.createPartitions(o)),
    deleteTopics: (o) => open(() => admin.deleteTopics(o)),
    describeTopicConfigs: async (topic, names) => {
      const described = await read(() => admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: names }], includeSynonyms: false }));
      const configs: Record<string, string> = {};
      for (const entry of described.resources[0]?.configEntries ?? []) configs[entry.configName] = entry.configValue;
      return configs;
    },
    alterTopicConfigs: async (topic, configs) => {
      // AlterConfigs (non-incremental) sets the whole managed set at once.
      await open(() => admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
      }));
    },
    fetchOffsets: async (o) =>
      (await read(() => admin.fetchOffsets(o))).map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset, metadata: commitMetadata(p.metadata) })) })),
    describeGroup: async (groupId) => {
      const [g] = (await read(() => admin.describeGroups([groupId]))).groups;
      return { state: g?.state ?? "Dead", members: g?.members.length ?? 0 };
    },
    fetchTopicOffsets: (topic) => read(() => topicOffsets(admin, topic)),
    fetchTopicOffsetsByTime: (topic, timestampMs) => read(() => admin.fetchTopicOffsetsByTimestamp(topic, timestampMs)),
    describeGroupMembers: async (groupId) => {
      const [g] = (await read(() => admin.describeGroups([groupId]))).groups;
      if (!g) return { state: "Dead", protocol: "", members: [] };
      return { state: g.state, protocol: g.protocol, members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost.replace(/^\//, ""), assignment: memberAssignment(m.memberAssignment) })) };
    },
    describeCluster: () => read(() => admin.describeCluster()),
    deleteGroups: (ids) => open(() => admin.deleteGroups(ids)),
    deleteTopicRecords: (o) => open(() => admin.deleteTopicRecords(o)),
    reassignPartitions: (topic, assignment) =>
      open(() => admin.alterPartitionReassignments({ topics: [{ topic, partitionAssignment: assignment }] })),
  };
}

/**
 * kafkajs asks the partitions its metadata lists for the topic; when it lists none (just
 * after the topic was created, before its partitions are known), the answer is empty and
 * kafkajs crashes destructuring it: "Cannot destructure property 'partitions' of
 * 'high.pop(...)'". That says nothing to whoever reads the log, so it is named here. It
 * is not an empty list: a caller would take "no partitions" for watermarks of 0.
 */
async function topicOffsets(admin: Admin, topic: string): ReturnType<KafkaAdmin["fetchTopicOffsets"]> {
  try {
    return await admin.fetchTopicOffsets(topic);
  } catch (err) {
    if (err instanceof TypeError && /partitions/.test(err.message)) {
      throw new Error(`no offsets for topic ${topic} yet: the Kafka client knows none of its partitions (a topic just created)`, { cause: err });
    }
    throw err;
  }
}

const READ_DEADLINE_MS = 30_000;

async function retrying<T>(call: () => Promise<T>, stop: () => boolean): Promise<T> {
  const until = Date.now() + READ_DEADLINE_MS;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await call();
    } catch (err) {
      if (!isRetriableAdminError(err) || stop() || Date.now() + delay > until) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * Commit metadata as written. Our consumer (confluent-kafka-javascript) stores a string
 * with a trailing NUL (its C++ side appends one, and strips it only on its own reads), so
 * read here it ended in "\0": an Aggregation's checkpoint then failed to parse, and every
 * rebalance resumed without its window state (found by the autoscaling loop on the node).
 */
export function commitMetadata(metadata: string | null): string | null {
  return metadata?.endsWith("\0") ? metadata.slice(0, -1) : metadata;
}

/**
 * A member's assignment in the consumer protocol's encoding, which librdkafka's members
 * use too; empty while a rebalance has not assigned it yet (or under another protocol).
 */
function memberAssignment(raw: Buffer): Record<string, number[]> {
  if (raw.length === 0) return {};
  try {
    return AssignerProtocol.MemberAssignment.decode(raw)?.assignment ?? {};
  } catch {
    return {};
  }
}
