/**
 * Each EventStream with ingest enabled gets its own collector (Deployment + Service), not a
 * shared one: a stream's traffic spike, API keys, limits and schema changes then touch only
 * its own pods, it scales and rolls on its own, and a bad client of one stream cannot starve
 * another. The cost is a few idle pods for quiet streams (two each by default, for
 * availability). It scales out on CPU with a HorizontalPodAutoscaler (`ingest.scaling`).
 */
import { DEFAULT_COLLECTOR_SCALING, type EventStreamSpec } from "../../api/eventstream.js";
import type { CompiledStream } from "../../runtime/pipeline/compiled.js";
import { currentReplicas } from "../autoscale/scale-step.js";
import type { ConditionInput } from "../conditions.js";
import type { OperatorContext } from "../context.js";
import { errorMessage } from "../errors.js";
import type { OwnerRef } from "../owner.js";
import { applyWorkload } from "../workload/apply-step.js";
import { desiredWorkload, workloadNames, type WorkerEnv, type Workload } from "../workload/desired.js";
import { scaleToZero } from "../workload/scale-to-zero.js";

export type CollectorScaling = NonNullable<EventStreamSpec["ingest"]>["scaling"];

/**
 * `current` is the Deployment's replicas now: the HorizontalPodAutoscaler owns the count
 * between the bounds, so the operator re-declares what it finds (moved into the bounds)
 * instead of resetting it on every reconcile; a new Deployment starts at the minimum.
 */
export function desiredCollectorWorkload(owner: OwnerRef, stream: CompiledStream, env: WorkerEnv, scaling: CollectorScaling = DEFAULT_COLLECTOR_SCALING, current?: number): Workload {
  // What the collector does not use stays out of its config, so e.g. growing the topic does not roll it.
  const { partitions: _p, replicationFactor: _r, minInSyncReplicas: _m, retentionMs: _t, deletionPolicy: _d, ...workerConfig } = stream;
  const replicas = Math.min(scaling.maxReplicas, Math.max(scaling.minReplicas, current ?? scaling.minReplicas));
  const workload = desiredWorkload({ component: "collector", owner, workerConfig, scaling: { minReplicas: scaling.minReplicas, replicas }, keysSecret: stream.ingest.authSecret }, env);
  const deployment = workload.deployment;
  workload.autoscaler = {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { ...deployment.metadata },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
      minReplicas: scaling.minReplicas,
      maxReplicas: scaling.maxReplicas,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: scaling.targetCPUUtilization } } }],
    },
  };
  return workload;
}

export function ingestUrl(stream: CompiledStream): string {
  return `http://${workloadNames("collector", stream.name).worker}.${stream.namespace}.svc/v1/streams/${stream.name}/events`;
}

export async function ensureCollector(
  ctx: OperatorContext,
  owner: OwnerRef,
  stream: CompiledStream,
  cluster: Pick<WorkerEnv, "kafkaBrokers" | "clickhouseUrl">,
  scaling: CollectorScaling = DEFAULT_COLLECTOR_SCALING,
): Promise<{ condition: ConditionInput; retry: boolean; url?: string }> {
  const name = workloadNames("collector", stream.name).worker;
  if (!stream.ingest.enabled) {
    // A collector from when ingest was on must stop taking events: scaled to 0, its objects
    // stay (owner-referenced) so enabling ingest again brings it straight back.
    try {
      await scaleToZero(ctx, stream.namespace, name);
    } catch (err) {
      return { retry: true, condition: { type: "WorkloadReady", status: "False", reason: "KubernetesUnavailable", message: errorMessage(err) } };
    }
    return { retry: false, condition: { type: "WorkloadReady", status: "True", reason: "IngestDisabled", message: "ingest.enabled is false: no collector runs" } };
  }
  let current: number | undefined;
  try {
    current = await currentReplicas(ctx, stream.namespace, name);
  } catch (err) {
    return { retry: true, condition: { type: "WorkloadReady", status: "False", reason: "KubernetesUnavailable", message: errorMessage(err) } };
  }
  const outcome = await applyWorkload(ctx, desiredCollectorWorkload(owner, stream, { workerImage: ctx.config.workerImage, ...cluster }, scaling, current));
  return { retry: outcome.retry, condition: outcome.condition, ...(outcome.condition.status === "True" && { url: ingestUrl(stream) }) };
}
