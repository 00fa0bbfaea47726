/**
 * EventStream reconcile, in order: finalizer, validate, ensure schema, ensure topics,
 * ensure the collector workload, write status. Each step names its own failure in a condition; a failed step stops the
 * ones after it, and Ready is True only when every step succeeded.
 */
import type { EventStreamSpec } from "../../api/eventstream.js";
import { compileStream } from "../../runtime/pipeline/compile.js";
import type { CompiledStream } from "../../runtime/pipeline/compiled.js";
import type { ReconcileResult } from "../controller.js";
import type { OperatorContext } from "../context.js";
import { TransientError, errorMessage } from "../errors.js";
import { addFinalizer, hasFinalizer, removeFinalizer } from "../finalizer.js";
import { getObject } from "../get-object.js";
import type { Obj } from "../informer.js";
import type { OwnerRef } from "../owner.js";
import { StatusDraft, writeStatus, type StatusBase } from "../status.js";
import { validateSpec } from "../validate.js";
import { endpoints, streamPlacement } from "../clusters.js";
import { ensureCollector } from "./collector-step.js";
import { ensureSchema } from "./schema-step.js";
import { deleteTopics, ensureTopics } from "./topic-step.js";
import { ownedElsewhereCondition, topicsOwnedByOthers, topicsUsedByOthers } from "./topic-claims.js";

export const PLURAL = "eventstreams";
const DEPENDENCIES = ["SchemaCompatible", "TopicReady", "WorkloadReady"] as const;

interface StreamStatus extends StatusBase {
  topic?: string;
  partitions?: number;
  schemaVersion?: number;
  ingestUrl?: string;
}

export function eventStreamReconciler(ctx: OperatorContext) {
  return async ({ namespace, name }: { namespace: string; name: string }): Promise<ReconcileResult> => {
    const obj = await getObject(ctx, PLURAL, namespace, name);
    if (!obj) return {}; // gone: nothing left to do, and a requeue cannot bring it back
    if (obj.metadata?.deletionTimestamp) return finalize(ctx, obj);
    await addFinalizer(ctx.custom, PLURAL, obj.metadata!);

    const owner: OwnerRef = { kind: "EventStream", name, namespace, uid: obj.metadata!.uid! };
    const draft = new StatusDraft<StreamStatus>(obj.status, obj.metadata!.generation ?? 0, ctx.now());
    const result = await reconcileSteps(ctx, obj, owner, draft);
    draft.finish(DEPENDENCIES);
    await writeStatus(ctx.custom, PLURAL, namespace, name, draft);
    return result;
  };
}

async function reconcileSteps(ctx: OperatorContext, obj: Obj, owner: OwnerRef, draft: StatusDraft<StreamStatus>): Promise<ReconcileResult> {
  const valid = validateSpec<EventStreamSpec>(obj);
  if (!valid.ok) {
    draft.condition({ type: "SchemaCompatible", status: "False", reason: "InvalidSpec", message: valid.message });
    return {}; // the user must change the spec; the watch brings us back when they do
  }
  const placement = streamPlacement(valid.spec.clusters, ctx.config);
  if (!placement.ok) {
    draft.condition({ type: "SchemaCompatible", status: "False", reason: "InvalidSpec", message: placement.message });
    return {};
  }
  const stream = compileStream({ kind: "EventStream", metadata: { name: owner.name, namespace: owner.namespace }, spec: valid.spec });

  const schema = await ensureSchema(ctx, owner, valid.spec, stream);
  draft.condition(schema.condition);
  if (schema.runningVersion !== undefined) draft.next.schemaVersion = schema.runningVersion;
  if (schema.decision.action === "refuse") {
    if (draft.transitioned("SchemaCompatible")) await ctx.events.record(owner, "Warning", schema.decision.reason, schema.condition.message);
    return {};
  }
  if (schema.decision.action === "accept") await ctx.events.record(owner, "Normal", "SchemaAccepted", `schema v${stream.schema.version} stored and running`);

  // Before touching a topic: one another stream owns is refused, never adopted (topic-claims.ts).
  const ownedElsewhere = topicsOwnedByOthers(obj, ctx.streams(), ctx.config);
  if (ownedElsewhere.size > 0) {
    const condition = ownedElsewhereCondition(ownedElsewhere);
    draft.condition(condition);
    if (draft.transitioned("TopicReady")) await ctx.events.record(owner, "Warning", condition.reason, condition.message);
    return {}; // the spec or the owner must change; the next resync looks again
  }
  const topics = await ensureTopics(ctx, stream, placement.kafka);
  draft.condition(topics.condition);
  draft.next.topic = stream.topic;
  if (topics.partitions !== undefined) draft.next.partitions = topics.partitions;
  await recordTopicEvents(ctx, owner, draft, topics);
  if (topics.condition.status !== "True") return { retry: topics.retry };

  const collector = await ensureCollector(ctx, owner, stream, endpoints(ctx.config, placement), valid.spec.ingest?.scaling);
  draft.condition(collector.condition);
  if (collector.url) draft.next.ingestUrl = collector.url;
  else delete draft.next.ingestUrl;
  return { retry: collector.retry };
}

async function recordTopicEvents(ctx: OperatorContext, owner: OwnerRef, draft: StatusDraft<StreamStatus>, topics: Awaited<ReturnType<typeof ensureTopics>>) {
  if (topics.condition.status === "False") {
    if (draft.transitioned("TopicReady")) await ctx.events.record(owner, "Warning", topics.condition.reason, topics.condition.message);
    return;
  }
  for (const { topic, plan } of topics.plans) {
    if (plan.action === "create") await ctx.events.record(owner, "Normal", "TopicCreated", `created topic ${topic}`);
    if (plan.action === "update") await ctx.events.record(owner, "Normal", "TopicUpdated", `updated topic ${topic}${plan.addPartitions ? ` to ${plan.addPartitions} partitions` : ""}`);
  }
}

/** Deletion: Delete removes the topic and DLQ (not one another stream uses), Retain keeps them; then the finalizer goes. */
async function finalize(ctx: OperatorContext, obj: Obj): Promise<ReconcileResult> {
  if (!hasFinalizer(obj.metadata!)) return {};
  const valid = validateSpec<EventStreamSpec>(obj);
  const placement = valid.ok ? streamPlacement(valid.spec.clusters, ctx.config) : undefined;
  if (valid.ok && placement?.ok && valid.spec.deletionPolicy === "Delete") {
    const stream: CompiledStream = compileStream({ kind: "EventStream", metadata: { name: obj.metadata!.name!, namespace: obj.metadata!.namespace! }, spec: valid.spec });
    const shared = topicsUsedByOthers(obj, ctx.streams(), ctx.config);
    const owner: OwnerRef = { kind: "EventStream", name: stream.name, namespace: stream.namespace, uid: obj.metadata!.uid! };
    for (const [topic, user] of shared) await ctx.events.record(owner, "Warning", "TopicShared", `kept topic ${topic}: EventStream ${user} uses it too`);
    try {
      const deleted = await deleteTopics(ctx, stream, placement.kafka, new Set(shared.keys()));
      ctx.log.info("deleted topics of a deleted stream", { namespace: stream.namespace, name: stream.name, topics: deleted });
    } catch (err) {
      // Keep the finalizer: removing it now would leak the topics forever.
      throw new TransientError(`deleting topics: ${errorMessage(err)}`, "KafkaUnavailable", { cause: err });
    }
  }
  await removeFinalizer(ctx.custom, PLURAL, obj.metadata!);
  return {};
}
