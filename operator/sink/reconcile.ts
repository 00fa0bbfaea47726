/**
 * Sink reconcile, in order: validate, resolve the source stream, ensure the table, apply
 * the workload, write status. Its workload objects are owner-referenced, so garbage
 * collection removes them; under deletionPolicy Delete a finalizer drops its table first
 * (table-cleanup.ts).
 */
import type { SinkSpec } from "../../api/sink.js";
import type { ReconcileResult } from "../controller.js";
import type { OperatorContext } from "../context.js";
import type { Obj } from "../informer.js";
import { selectorString, type OwnerRef } from "../owner.js";
import type { StatusDraft } from "../status.js";
import { validateSpec } from "../validate.js";
import { resolveSource } from "./source-step.js";
import { ensureTable } from "./table-step.js";
import { applyWorkload } from "../workload/apply-step.js";
import { desiredSinkWorkload } from "./desired.js";
import { workloadNames } from "../workload/desired.js";
import { decideReplicas, setLag } from "../autoscale/scale-step.js";
import { readerReconciler, type ReaderStatus } from "../reader-reconciler.js";
import { endpoints } from "../clusters.js";
import { observeRetrying } from "../workload/worker-retries.js";

export const PLURAL = "sinks";

export function sinkReconciler(ctx: OperatorContext) {
  return readerReconciler(ctx, { kind: "Sink", plural: PLURAL, component: "sink", steps: reconcileSteps });
}

async function reconcileSteps(ctx: OperatorContext, obj: Obj, owner: OwnerRef, draft: StatusDraft<ReaderStatus>): Promise<ReconcileResult> {
  const valid = validateSpec<SinkSpec>(obj);
  if (!valid.ok) {
    draft.condition({ type: "SourceReady", status: "False", reason: "InvalidSpec", message: valid.message });
    return {};
  }
  const source = await resolveSource(ctx, owner.namespace, owner.name, valid.spec);
  draft.condition(source.condition);
  if (!source.ok) return { retry: source.retry };

  const table = await ensureTable(ctx, source.sink, source.clickhouse);
  draft.condition(table.condition);
  if (table.addedColumns.length > 0) await ctx.events.record(owner, "Normal", "ColumnsAdded", `added columns ${table.addedColumns.join(", ")} to ${source.sink.database}.${source.sink.table}`);
  if (table.condition.status !== "True") {
    if (draft.transitioned("TableReady")) await ctx.events.record(owner, "Warning", table.condition.reason, table.condition.message);
    return { retry: table.retry };
  }

  const sink = source.sink;
  const scale = await decideReplicas(ctx, {
    owner: { ...owner, kind: "Sink" }, deployment: workloadNames("sink", owner.name).worker,
    groupId: sink.groupId, topic: sink.stream.topic, partitions: sink.stream.partitions, scaling: sink.scaling, kafkaCluster: source.kafka,
  }, draft.next.autoscaling);
  setLag(draft.next, scale);
  const env = { workerImage: ctx.config.workerImage, ...endpoints(ctx.config, source) };
  const workload = await applyWorkload(ctx, desiredSinkWorkload(owner, { ...sink, scaling: { ...sink.scaling, replicas: scale.replicas } }, env, valid.spec.resources));
  draft.condition(workload.condition);
  draft.next.selector = selectorString(workload.selector);
  if (workload.replicas !== undefined) draft.next.replicas = workload.replicas;
  draft.condition(await observeRetrying(ctx, owner.namespace, draft.next.selector));
  // Lag moves without any watch event: look again at the autoscaling interval.
  return { retry: workload.retry, requeueAfterMs: ctx.config.autoscaleIntervalMs };
}
