/**
 * Applies a TopicPlan with the Kafka admin client: create, grow partitions, correct config
 * drift. Shrinking is refused with a typed error that callers turn into a condition.
 */
import kafkajs, { type Admin } from "kafkajs";

// kafkajs is CommonJS and Node's ESM loader cannot see this enum as a named export.
const { ConfigResourceTypes } = kafkajs;
import { planTopic, type DesiredTopic, type ObservedTopic, type TopicPlan } from "./topic-plan.js";

/** A spec the cluster cannot honour; retrying will not help until the spec changes. */
export class TopicSpecError extends Error {
  readonly retriable = false;
  constructor(message: string, readonly reason: string) {
    super(message);
  }
}

export async function observeTopic(admin: Admin, name: string, managedKeys: string[]): Promise<ObservedTopic | undefined> {
  // Existence is checked explicitly: a failed describe must never be mistaken for "absent".
  if (!(await admin.listTopics()).includes(name)) return undefined;
  const meta = await admin.fetchTopicMetadata({ topics: [name] });
  const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames: managedKeys }], includeSynonyms: false });
  const configs: Record<string, string> = {};
  for (const entry of described.resources[0]?.configEntries ?? []) configs[entry.configName] = entry.configValue;
  return { partitions: meta.topics[0]!.partitions.length, configs };
}

export async function ensureTopic(admin: Admin, desired: DesiredTopic): Promise<TopicPlan> {
  const plan = planTopic(desired, await observeTopic(admin, desired.name, Object.keys(desired.configs)));
  switch (plan.action) {
    case "create":
      await admin.createTopics({
        topics: [{
          topic: desired.name,
          numPartitions: desired.partitions,
          replicationFactor: desired.replicationFactor,
          configEntries: Object.entries(desired.configs).map(([name, value]) => ({ name, value })),
        }],
        waitForLeaders: true,
      });
      break;
    case "update":
      if (plan.addPartitions) await admin.createPartitions({ topicPartitions: [{ topic: desired.name, count: plan.addPartitions }] });
      if (Object.keys(plan.configDrift).length > 0) {
        // AlterConfigs (non-incremental) sets the whole managed set at once.
        await admin.alterConfigs({
          validateOnly: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: desired.name, configEntries: Object.entries(desired.configs).map(([name, value]) => ({ name, value })) }],
        });
      }
      break;
    case "refuse-shrink":
      throw new TopicSpecError(
        `topic ${desired.name} has ${plan.have} partitions and the spec asks for ${plan.want}: Kafka partitions can only grow`,
        "PartitionShrinkRefused",
      );
    case "none":
      break;
  }
  return plan;
}
