/**
 * Applies a TopicPlan with the Kafka admin client: create, grow partitions, correct config
 * drift. What no retry can fix is a typed error that callers turn into a condition:
 * shrinking, more replicas than the cluster has brokers, and any request Kafka refuses as
 * invalid (spec-refusal.ts).
 */
import type { KafkaAdmin as Admin, NewTopic } from "./port.js";
import { specRefusal } from "./spec-refusal.js";
import { planTopic, type DesiredTopic, type ObservedTopic, type TopicPlan } from "./topic-plan.js";

/** A spec the cluster cannot honour; retrying will not help until the spec changes. */
export class TopicSpecError extends Error {
  readonly retriable = false;
  /** `partitions`: what the existing topic has, when the refusal knows it (a shrink), so status can show it. */
  constructor(message: string, readonly reason: string, readonly partitions?: number) {
    super(message);
  }
}

export async function observeTopic(admin: Admin, name: string, managedKeys: string[]): Promise<ObservedTopic | undefined> {
  // Existence is checked explicitly: a failed describe must never be mistaken for "absent".
  if (!(await admin.listTopics()).includes(name)) return undefined;
  const meta = await admin.fetchTopicMetadata({ topics: [name] });
  const configs = await admin.describeTopicConfigs(name, managedKeys);
  return { partitions: meta.topics[0]!.partitions.length, configs };
}

const LEADER_WAIT_MS = 30_000;
const RETRIABLE_METADATA = new Set(["UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE"]);

/** Polls metadata until every partition of a new topic has a leader, with a deadline. */
export async function waitForLeaders(admin: Pick<Admin, "fetchTopicMetadata">, topic: string, partitions: number, deadlineMs = LEADER_WAIT_MS): Promise<void> {
  const until = Date.now() + deadlineMs;
  let last = "no metadata yet";
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      const meta = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0];
      const led = meta?.partitions.filter((p) => p.leader >= 0).length ?? 0;
      if (led >= partitions) return;
      last = `${led} of ${partitions} partitions have a leader`;
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (!type || !RETRIABLE_METADATA.has(type)) throw err;
      last = type;
    }
    if (Date.now() + delay > until) throw new Error(`topic ${topic} was created but its partitions have no leaders after ${deadlineMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * createTopics, then wait until every partition has a leader. The admin client's own wait
 * (`waitForLeaders: true`) retries only LEADER_NOT_AVAILABLE, but a broker that has not
 * caught up with the controller answers UNKNOWN_TOPIC_OR_PARTITION for a moment after a
 * create (seen under load, on one broker and on three), which failed `make demo`.
 */
export async function createTopicsAndWait(admin: Pick<Admin, "createTopics" | "fetchTopicMetadata">, topics: NewTopic[]): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false });
  for (const t of topics) await waitForLeaders(admin, t.topic, t.numPartitions ?? 1);
}

export async function ensureTopic(admin: Admin, desired: DesiredTopic): Promise<TopicPlan> {
  const plan = planTopic(desired, await observeTopic(admin, desired.name, Object.keys(desired.configs)));
  try {
    await applyPlan(admin, desired, plan);
  } catch (err) {
    const refusal = specRefusal(err);
    if (refusal) throw new TopicSpecError(`Kafka refused topic ${desired.name}: ${refusal.type} (${refusal.message})`, "TopicRefused");
    throw err;
  }
  return plan;
}

async function applyPlan(admin: Admin, desired: DesiredTopic, plan: TopicPlan): Promise<void> {
  switch (plan.action) {
    case "create":
      await refuseMoreReplicasThanBrokers(admin, desired);
      await createTopicsAndWait(admin, [{
        topic: desired.name,
        numPartitions: desired.partitions,
        replicationFactor: desired.replicationFactor,
        configEntries: Object.entries(desired.configs).map(([name, value]) => ({ name, value })),
      }]);
      break;
    case "update":
      if (plan.addPartitions) await admin.createPartitions({ topicPartitions: [{ topic: desired.name, count: plan.addPartitions }] });
      if (Object.keys(plan.configDrift).length > 0) {
        await admin.alterTopicConfigs(desired.name, desired.configs);
      }
      break;
    case "refuse-shrink":
      throw new TopicSpecError(
        `topic ${desired.name} has ${plan.have} partitions and the spec asks for ${plan.want}: Kafka partitions can only grow`,
        "PartitionShrinkRefused",
        plan.have,
      );
    case "none":
      break;
  }
}

/**
 * Kafka alone answers "Replication-factor is invalid"; this says what was asked and what
 * exists. Brokers are counted as the cluster reports them (the live ones), as Kafka counts
 * them when it creates the topic; a broker that comes back is seen at the next resync.
 */
async function refuseMoreReplicasThanBrokers(admin: Pick<Admin, "describeCluster">, desired: DesiredTopic): Promise<void> {
  const brokers = (await admin.describeCluster()).brokers.length;
  if (desired.replicationFactor <= brokers) return;
  throw new TopicSpecError(
    `topic ${desired.name} asks for replicationFactor ${desired.replicationFactor}, but the Kafka cluster has ${brokers} broker${brokers === 1 ? "" : "s"}: lower spec.topic.replicationFactor or add brokers`,
    "ReplicationFactorTooHigh",
  );
}
