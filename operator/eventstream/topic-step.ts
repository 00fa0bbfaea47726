/**
 * Ensure the stream's topic and dead-letter topic as declared, with the shared
 * desiredTopics/ensureTopic (no replication clamping: production gets what it declares).
 * What ensureTopic types as a spec problem (a shrink, more replicas than brokers, a
 * request Kafka refuses as invalid) is a condition without a retry; anything else from
 * Kafka is transient.
 */
import { desiredTopics } from "../../runtime/pipeline/provision-topics.js";
import { ensureTopic, TopicSpecError } from "../../runtime/kafka/ensure-topic.js";
import type { TopicPlan } from "../../runtime/kafka/topic-plan.js";
import type { CompiledStream } from "../../runtime/pipeline/compiled.js";
import type { OperatorContext } from "../context.js";
import type { ConditionInput } from "../conditions.js";
import { errorMessage } from "../errors.js";

export interface TopicOutcome {
  condition: ConditionInput;
  /** Partitions the main topic has in Kafka after this step, when known (status.partitions, the PARTITIONS column). */
  partitions?: number;
  plans: { topic: string; plan: TopicPlan }[];
  retry: boolean;
}

export async function ensureTopics(ctx: Pick<OperatorContext, "withKafkaAdmin">, stream: CompiledStream, cluster?: string): Promise<TopicOutcome> {
  const plans: { topic: string; plan: TopicPlan }[] = [];
  let partitions: number | undefined;
  try {
    await ctx.withKafkaAdmin(async (admin) => {
      for (const topic of desiredTopics(stream)) {
        const plan = await ensureTopic(admin, topic).catch((err: unknown) => {
          // Only the main topic's count is the stream's: a refused DLQ must not report its own.
          if (topic.name === stream.topic && err instanceof TopicSpecError) partitions = err.partitions;
          throw err;
        });
        plans.push({ topic: topic.name, plan });
        // A plan that went through leaves the topic with exactly the declared count: created
        // with it, grown to it, or found with it (planTopic refuses anything else).
        if (topic.name === stream.topic) partitions = topic.partitions;
      }
    }, cluster);
  } catch (err) {
    if (err instanceof TopicSpecError) {
      return { plans, retry: false, partitions, condition: { type: "TopicReady", status: "False", reason: err.reason, message: err.message } };
    }
    return { plans, retry: true, partitions, condition: { type: "TopicReady", status: "False", reason: "KafkaUnavailable", message: `Kafka: ${errorMessage(err)}` } };
  }
  return {
    plans,
    retry: false,
    partitions,
    condition: { type: "TopicReady", status: "True", reason: "TopicInSync", message: `topic ${stream.topic} (${stream.partitions} partitions) and dead-letter topic ${stream.deadLetterTopic} match the spec` },
  };
}

/** Deletes the topic and DLQ that exist, except those to `keep`; absent ones are already where we want them. */
export async function deleteTopics(ctx: Pick<OperatorContext, "withKafkaAdmin" | "resetKafkaAdmin">, stream: CompiledStream, cluster?: string, keep: ReadonlySet<string> = new Set()): Promise<string[]> {
  const doomed = await ctx.withKafkaAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics());
    const gone = [stream.topic, stream.deadLetterTopic].filter((t) => existing.has(t) && !keep.has(t));
    if (gone.length > 0) await admin.deleteTopics({ topics: gone });
    return gone;
  }, cluster);
  // The client still lists the deleted topics among its metadata targets.
  if (doomed.length > 0) await ctx.resetKafkaAdmin(cluster);
  return doomed;
}
