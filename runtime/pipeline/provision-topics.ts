/**
 * Ensures every stream's topic and dead-letter topic exist as declared. For `sluice run`
 * against a small local cluster, replication can be clamped to the brokers available,
 * loudly; the operator never clamps (a production topic must get what it declares).
 */
import type { KafkaAdmin as Admin } from "../kafka/port.js";
import { ensureTopic } from "../kafka/ensure-topic.js";
import { topicConfigs, type DesiredTopic, type TopicPlan } from "../kafka/topic-plan.js";
import type { CompiledStream } from "./compiled.js";

/** Poison events are rare; a few partitions keep the DLQ cheap while letting it grow. */
const DLQ_MAX_PARTITIONS = 3;
/** Dead letters wait for a human: keep them at least four weeks. */
const DLQ_MIN_RETENTION_MS = 28 * 86_400_000;

export function desiredTopics(stream: CompiledStream, brokers?: number): DesiredTopic[] {
  const rf = brokers === undefined ? stream.replicationFactor : Math.min(stream.replicationFactor, brokers);
  const minIsr = Math.min(stream.minInSyncReplicas, rf);
  return [
    { name: stream.topic, partitions: stream.partitions, replicationFactor: rf, configs: topicConfigs({ ...stream, minInSyncReplicas: minIsr }) },
    {
      name: stream.deadLetterTopic,
      partitions: Math.min(stream.partitions, DLQ_MAX_PARTITIONS),
      replicationFactor: rf,
      configs: topicConfigs({ ...stream, minInSyncReplicas: minIsr, retentionMs: Math.max(stream.retentionMs, DLQ_MIN_RETENTION_MS) }),
    },
  ];
}

export interface ProvisionedTopic {
  topic: string;
  plan: TopicPlan;
  clampedReplication?: { declared: number; used: number };
}

export async function provisionTopics(admin: Admin, streams: CompiledStream[], opts: { clampToBrokers: boolean }): Promise<ProvisionedTopic[]> {
  const brokers = opts.clampToBrokers ? (await admin.describeCluster()).brokers.length : undefined;
  const out: ProvisionedTopic[] = [];
  for (const stream of streams) {
    for (const topic of desiredTopics(stream, brokers)) {
      const plan = await ensureTopic(admin, topic);
      const clamped = topic.replicationFactor < stream.replicationFactor;
      out.push({ topic: topic.name, plan, ...(clamped ? { clampedReplication: { declared: stream.replicationFactor, used: topic.replicationFactor } } : {}) });
    }
  }
  return out;
}
