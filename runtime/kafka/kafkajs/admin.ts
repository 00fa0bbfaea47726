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
  return {
    connect: () => admin.connect(),
    disconnect: () => admin.disconnect(),
    listTopics: () => admin.listTopics(),
    fetchTopicMetadata: (o) => admin.fetchTopicMetadata(o),
    createTopics: (o) => admin.createTopics(o),
    createPartitions: (o) => admin.createPartitions(o),
    deleteTopics: (o) => admin.deleteTopics(o),
    describeTopicConfigs: async (topic, names) => {
      const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: names }], includeSynonyms: false });
      const configs: Record<string, string> = {};
      for (const entry of described.resources[0]?.configEntries ?? []) configs[entry.configName] = entry.configValue;
      return configs;
    },
    alterTopicConfigs: async (topic, configs) => {
      // AlterConfigs (non-incremental) sets the whole managed set at once.
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
      });
    },
    fetchOffsets: async (o) =>
      (await admin.fetchOffsets(o)).map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset, metadata: p.metadata })) })),
    fetchTopicOffsets: (topic) => admin.fetchTopicOffsets(topic),
    describeCluster: () => admin.describeCluster(),
    deleteGroups: (ids) => admin.deleteGroups(ids),
    deleteTopicRecords: (o) => admin.deleteTopicRecords(o),
    reassignPartitions: (topic, assignment) =>
      admin.alterPartitionReassignments({ topics: [{ topic, partitionAssignment: assignment }] }),
  };
}
