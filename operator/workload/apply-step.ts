/**
 * Apply a worker's objects by server-side apply, config first so a new pod never starts
 * against an old ConfigMap. WorkloadReady means the Deployment exists as declared (pod
 * readiness is the Deployment controller's business).
 */
import type * as k8s from "@kubernetes/client-node";
import type { ConditionInput } from "../conditions.js";
import type { OperatorContext } from "../context.js";
import { errorMessage } from "../errors.js";
import type { Workload } from "./desired.js";

export interface WorkloadOutcome {
  condition: ConditionInput;
  retry: boolean;
  replicas?: number;
  selector: Record<string, string>;
}

export async function applyWorkload(ctx: Pick<OperatorContext, "applier">, desired: Workload): Promise<WorkloadOutcome> {
  try {
    for (const obj of [desired.configMap, desired.serviceAccount]) await ctx.applier.apply(obj);
    const deployment = await ctx.applier.apply<k8s.V1Deployment>(desired.deployment);
    await ctx.applier.apply(desired.podDisruptionBudget);
    if (desired.service) await ctx.applier.apply(desired.service);
    if (desired.autoscaler) await ctx.applier.apply(desired.autoscaler);
    return {
      retry: false,
      selector: desired.selector,
      replicas: deployment.status?.replicas ?? 0,
      condition: { type: "WorkloadReady", status: "True", reason: "Applied", message: `Deployment ${desired.deployment.metadata.name} applied (spec hash ${desired.hash})` },
    };
  } catch (err) {
    return { retry: true, selector: desired.selector, condition: { type: "WorkloadReady", status: "False", reason: "ApplyFailed", message: errorMessage(err) } };
  }
}
