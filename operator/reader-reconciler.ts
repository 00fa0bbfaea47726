/**
 * What a Sink and an Aggregation reconcile share around their own steps: read the object,
 * deletion (finalizer, tables under deletionPolicy Delete), the finalizer kept in step with
 * the policy, a status draft written once at the end. The kind supplies only its steps.
 */
import type { ReconcileResult } from "./controller.js";
import type { OperatorContext } from "./context.js";
import { getObject } from "./get-object.js";
import type { Obj } from "./informer.js";
import type { OwnerRef } from "./owner.js";
import { StatusDraft, writeStatus, type StatusBase } from "./status.js";
import { finalizeWriter, syncFinalizer } from "./table-cleanup.js";
import type { AutoscalingStatus } from "./autoscale/scale-step.js";
import type { WorkerComponent } from "./workload/desired.js";

export interface ReaderStatus extends StatusBase {
  replicas?: number;
  selector?: string;
  lagMessages?: number;
  lagSeconds?: number;
  autoscaling?: AutoscalingStatus;
}

const DEPENDENCIES = ["SourceReady", "TableReady", "WorkloadReady"] as const;

export interface ReaderKind {
  kind: "Sink" | "Aggregation";
  plural: string;
  component: WorkerComponent;
  steps(ctx: OperatorContext, obj: Obj, owner: OwnerRef, draft: StatusDraft<ReaderStatus>): Promise<ReconcileResult>;
}

export function readerReconciler(ctx: OperatorContext, k: ReaderKind) {
  return async ({ namespace, name }: { namespace: string; name: string }): Promise<ReconcileResult> => {
    const obj = await getObject(ctx, k.plural, namespace, name);
    if (!obj || obj.metadata?.deletionTimestamp) {
      ctx.autoscaler.forget(`${k.kind}/${namespace}/${name}`);
      ctx.autoscaleMetrics?.forget({ kind: k.kind, namespace, name });
    }
    if (!obj) return {};
    const owner = { kind: k.kind, name, namespace, uid: obj.metadata!.uid! };
    if (obj.metadata?.deletionTimestamp) return finalizeWriter(ctx, k.plural, k.component, owner, obj);
    await syncFinalizer(ctx, k.plural, k.kind, obj);
    const draft = new StatusDraft<ReaderStatus>(obj.status, obj.metadata!.generation ?? 0, ctx.now());
    const result = await k.steps(ctx, obj, owner, draft);
    draft.finish(DEPENDENCIES);
    await writeStatus(ctx.custom, k.plural, namespace, name, draft);
    return result;
  };
}
