/**
 * Sink reconcile, in order: validate, resolve the source stream, ensure the table, apply
 * the workload, write status. Its workload objects are owner-referenced, so garbage
 * collection removes them; under deletionPolicy Delete a finalizer drops its table first
 * (table-cleanup.ts).
 */
import { GROUP, VERSION } from "../../api/common.js";
import type { SinkSpec } from "../../api/sink.js";
import type { ReconcileResult } from "../controller.js";
import type { OperatorContext } from "../context.js";
import { isNotFound } from "../errors.js";
import type { Obj } from "../informer.js";
import { selectorString, type OwnerRef } from "../owner.js";
import { StatusDraft, writeStatus, type StatusBase } from "../status.js";
import { validateSpec } from "../validate.js";
import { resolveSource } from "./source-step.js";
import { ensureTable } from "./table-step.js";
import { applyWorkload } from "../workload/apply-step.js";
import { desiredSinkWorkload } from "./desired.js";
import { workloadNames } from "../workload/desired.js";
import { decideReplicas, setLag } from "../autoscale/scale-step.js";
import { finalizeWriter, syncFinalizer } from "../table-cleanup.js";
import { endpoints } from "../clusters.js";

export const PLURAL = "sinks";
const DEPENDENCIES = ["SourceReady", "TableReady", "WorkloadReady"] as const;

interface SinkStatus extends StatusBase {
  replicas?: number;
  selector?: string;
  lagMessages?: number;
  lagSeconds?: number;
}

export function sinkReconciler(ctx: OperatorContext) {
  return async ({ namespace, name }: { namespace: string; name: string }): Promise<ReconcileResult> => {
    const obj = await getSink(ctx, namespace, name);
    if (!obj || obj.metadata?.deletionTimestamp) ctx.autoscaler.forget(`Sink/${namespace}/${name}`);
    if (!obj) return {};
    const owner = { kind: "Sink" as const, name, namespace, uid: obj.metadata!.uid! };
    if (obj.metadata?.deletionTimestamp) return finalizeWriter(ctx, PLURAL, "sink", owner, obj);
    await syncFinalizer(ctx, PLURAL, "Sink", obj);
    const draft = new StatusDraft<SinkStatus>(obj.status, obj.metadata!.generation ?? 0, ctx.now());
    const result = await reconcileSteps(ctx, obj, owner, draft);
    draft.finish(DEPENDENCIES);
    await writeStatus(ctx.custom, PLURAL, namespace, name, draft);
    return result;
  };
}

async function reconcileSteps(ctx: OperatorContext, obj: Obj, owner: OwnerRef, draft: StatusDraft<SinkStatus>): Promise<ReconcileResult> {
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
    key: `Sink/${owner.namespace}/${owner.name}`, namespace: owner.namespace, deployment: workloadNames("sink", owner.name).worker,
    groupId: sink.groupId, topic: sink.stream.topic, partitions: sink.stream.partitions, scaling: sink.scaling, kafkaCluster: source.kafka,
  });
  setLag(draft.next, scale);
  const env = { workerImage: ctx.config.workerImage, ...endpoints(ctx.config, source) };
  const workload = await applyWorkload(ctx, desiredSinkWorkload(owner, { ...sink, scaling: { ...sink.scaling, replicas: scale.replicas } }, env));
  draft.condition(workload.condition);
  draft.next.selector = selectorString(workload.selector);
  if (workload.replicas !== undefined) draft.next.replicas = workload.replicas;
  // Lag moves without any watch event: look again at the autoscaling interval.
  return { retry: workload.retry, requeueAfterMs: ctx.config.autoscaleIntervalMs };
}

async function getSink(ctx: OperatorContext, namespace: string, name: string): Promise<Obj | undefined> {
  try {
    return (await ctx.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as Obj;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
