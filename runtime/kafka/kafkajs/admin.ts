/**
 * The admin half of the port on kafkajs. Admin calls are single request/response
 * exchanges that our reconcilers retry as a whole, so they carry none of the producer's
 * retry-state defects (tulios/kafkajs#1303, #598) that made us move produce and consume
 * to librdkafka. They stay here because librdkafka's JavaScript binding (1.10) exposes no
 * DescribeConfigs/AlterConfigs, which config-drift correction needs.
 */
import kafkajs, { type Admin } from "kafkajs";
import type { KafkaAdmin } from "../port.js";

// kafkajs is CommonJS and Node's ESM loader cannot see this enum as a named export.
const { ConfigResourceTypes, Kafka, logLevel } = kafkajs;

export function kafkajsAdmin(brokers: string[], clientId: string): KafkaAdmin {
  const admin: Admin = new Kafka({ clientId, brokers, logLevel: logLevel.WARN, retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 } }).admin();
  // kafkajs reconnects lazily on any request, even after disconnect(); a call made after
  // it would leave an open socket that keeps the process alive, so it is refused instead.
  let closed = false;
  const open = <T>(call: () => Promise<T>): Promise<T> => (closed ? Promise.reject(new Error("the Kafka admin client was disconnected")) : call());
  return {
    connect: () => admin.connect(),
    disconnect: () => {
      closed = true;
      return admin.disconnect();
    },
    listTopics: () => open(() => admin.listTopics()),
    fetchTopicMetadata: (o) => open(() => admin.fetchTopicMetadata(o)),
    createTopics: (o) => open(() => admin.createTopics(o)),
    createPartitions: (o) => open(() => admin.createPartitions(o)),
    deleteTopics: (o) => open(() => admin.deleteTopics(o)),
    describeTopicConfigs: async (topic, names) => {
      const described = await open(() => admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: names }], includeSynonyms: false }));
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
      (await open(() => admin.fetchOffsets(o))).map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset, metadata: p.metadata })) })),
    fetchTopicOffsets: (topic) => open(() => admin.fetchTopicOffsets(topic)),
    describeCluster: () => open(() => admin.describeCluster()),
    deleteGroups: (ids) => open(() => admin.deleteGroups(ids)),
    deleteTopicRecords: (o) => open(() => admin.deleteTopicRecords(o)),
    reassignPartitions: (topic, assignment) =>
      open(() => admin.alterPartitionReassignments({ topics: [{ topic, partitionAssignment: assignment }] })),
  };
}
