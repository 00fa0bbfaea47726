/**
 * Aggregation reconcile, the Sink's pattern: validate, resolve the source stream (running
 * schema) and compile the job, ensure the aggregate (and late) tables, apply the workload,
 * write status. The workload is owner-referenced; under deletionPolicy Delete a finalizer
 * drops the tables first (table-cleanup.ts).
 */
import type { AggregationSpec } from "../../api/aggregation.js";
import { compileAggregationJob, type CompiledAggregationJob } from "../../runtime/aggregation-worker/job.js";
import { ensureAggregationTables } from "../../runtime/aggregation-worker/ensure-tables.js";
import { PipelineError } from "../../runtime/pipeline/compile.js";
import type { ConditionInput } from "../conditions.js";
import type { ReconcileResult } from "../controller.js";
import type { OperatorContext } from "../context.js";
import { errorMessage } from "../errors.js";
import type { Obj } from "../informer.js";
import { selectorString, type OwnerRef } from "../owner.js";
import { resolveStream, sourceNotReady } from "../source-stream.js";
import type { StatusDraft } from "../status.js";
import { validateSpec } from "../validate.js";
import { applyWorkload } from "../workload/apply-step.js";
import { desiredWorkload, workloadNames } from "../workload/desired.js";
import { workerStream } from "../workload/worker-stream.js";
import { decideReplicas, setLag } from "../autoscale/scale-step.js";
import { readerReconciler, type ReaderStatus } from "../reader-reconciler.js";
import { endpoints, readerPlacement } from "../clusters.js";
import { observeRetrying } from "../workload/worker-retries.js";

export const PLURAL = "aggregations";

export function aggregationReconciler(ctx: OperatorContext) {
  return readerReconciler(ctx, { kind: "Aggregation", plural: PLURAL, component: "aggregation", steps: reconcileSteps });
}

async function reconcileSteps(ctx: OperatorContext, obj: Obj, owner: OwnerRef, draft: StatusDraft<ReaderStatus>): Promise<ReconcileResult> {
  const valid = validateSpec<AggregationSpec>(obj);
  if (!valid.ok) {
    draft.condition({ type: "SourceReady", status: "False", reason: "InvalidSpec", message: valid.message });
    return {};
  }
  const source = await compileJob(ctx, owner, valid.spec);
  draft.condition(source.condition);
  if (!source.ok) return { retry: source.retry };

  const table = await ensureTables(ctx, source.job, source.clickhouse);
  draft.condition(table.condition);
  if (table.condition.status !== "True") {
    if (draft.transitioned("TableReady")) await ctx.events.record(owner, "Warning", table.condition.reason, table.condition.message);
    return { retry: true };
  }

  const { scaling, singleWorker, stream, ...rest } = source.job;
  const workerConfig = { ...rest, stream: workerStream(stream) };
  const scale = await decideReplicas(ctx, {
    owner: { ...owner, kind: "Aggregation" }, deployment: workloadNames("aggregation", owner.name).worker,
    groupId: source.job.groupId, topic: stream.topic, partitions: stream.partitions, scaling, kafkaCluster: source.kafka,
  }, draft.next.autoscaling);
  setLag(draft.next, scale);
  const env = { workerImage: ctx.config.workerImage, ...endpoints(ctx.config, source) };
  const workload = await applyWorkload(ctx, desiredWorkload({ component: "aggregation", owner, workerConfig, scaling: { ...scaling, replicas: scale.replicas }, exclusive: singleWorker !== undefined, ...(valid.spec.resources && { resources: valid.spec.resources }) }, env));
  draft.condition(singleWorker && workload.condition.status === "True" ? { ...workload.condition, message: `${workload.condition.message}; ${singleWorker}` } : workload.condition);
  draft.next.selector = selectorString(workload.selector);
  if (workload.replicas !== undefined) draft.next.replicas = workload.replicas;
  draft.condition(await observeRetrying(ctx, owner.namespace, draft.next.selector));
  return { retry: workload.retry, requeueAfterMs: ctx.config.autoscaleIntervalMs };
}

async function compileJob(ctx: OperatorContext, owner: OwnerRef, spec: AggregationSpec) {
  const resolved = await resolveStream(ctx, owner.namespace, spec.source.stream);
  if (!resolved.ok) return resolved;
  const placement = readerPlacement(spec.clusters, { name: spec.source.stream, kafka: resolved.kafka }, ctx.config);
  if (!placement.ok) return sourceNotReady("InvalidSpec", placement.message, false);
  try {
    const job = compileAggregationJob({ kind: "Aggregation", metadata: { name: owner.name, namespace: owner.namespace }, spec }, [resolved.stream]);
    return { ok: true as const, job, kafka: placement.kafka, clickhouse: placement.clickhouse, condition: resolved.condition };
  } catch (err) {
    if (err instanceof PipelineError) return sourceNotReady("InvalidSpec", err.message, false);
    throw err;
  }
}

async function ensureTables(ctx: OperatorContext, job: CompiledAggregationJob, cluster: string): Promise<{ condition: ConditionInput }> {
  const table = `${job.output.database}.${job.output.table}`;
  try {
    await ensureAggregationTables(ctx.clickhouse(cluster), job, await ctx.clickhouseFeatures(cluster));
    return { condition: { type: "TableReady", status: "True", reason: "TableInSync", message: `table ${table} exists` } };
  } catch (err) {
    const reason = typeof (err as { type?: unknown }).type === "string" ? "TableRejected" : "ClickHouseUnavailable";
    return { condition: { type: "TableReady", status: "False", reason, message: `ClickHouse: ${errorMessage(err)}` } };
  }
}
