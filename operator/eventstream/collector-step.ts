/**
 * Each EventStream with ingest enabled gets its own collector (Deployment + Service), not a
 * shared one: a stream's traffic spike, API keys, limits and schema changes then touch only
 * its own pods, it scales and rolls on its own, and a bad client of one stream cannot starve
 * another. The cost is a few idle pods for quiet streams (two each, for availability).
 */
import type { CompiledStream } from "../../runtime/pipeline/compiled.js";
import type { ConditionInput } from "../conditions.js";
import type { OperatorContext } from "../context.js";
import { errorMessage } from "../errors.js";
import type { OwnerRef } from "../owner.js";
import { applyWorkload } from "../workload/apply-step.js";
import { desiredWorkload, workloadNames, type WorkerEnv, type Workload } from "../workload/desired.js";
import { scaleToZero } from "../workload/scale-to-zero.js";

export const COLLECTOR_REPLICAS = 2;

export function desiredCollectorWorkload(owner: OwnerRef, stream: CompiledStream, env: WorkerEnv): Workload {
  // What the collector does not use stays out of its config, so e.g. growing the topic does not roll it.
  const { partitions: _p, replicationFactor: _r, minInSyncReplicas: _m, retentionMs: _t, deletionPolicy: _d, ...workerConfig } = stream;
  return desiredWorkload({ component: "collector", owner, workerConfig, scaling: { minReplicas: COLLECTOR_REPLICAS }, keysSecret: stream.ingest.authSecret }, env);
}

export function ingestUrl(stream: CompiledStream): string {
  return `http://${workloadNames("collector", stream.name).worker}.${stream.namespace}.svc/v1/streams/${stream.name}/events`;
}

export async function ensureCollector(ctx: OperatorContext, owner: OwnerRef, stream: CompiledStream): Promise<{ condition: ConditionInput; retry: boolean; url?: string }> {
  if (!stream.ingest.enabled) {
    // A collector from when ingest was on must stop taking events: scaled to 0, its objects
    // stay (owner-referenced) so enabling ingest again brings it straight back.
    try {
      await scaleToZero(ctx, stream.namespace, workloadNames("collector", stream.name).worker);
    } catch (err) {
      return { retry: true, condition: { type: "WorkloadReady", status: "False", reason: "KubernetesUnavailable", message: errorMessage(err) } };
    }
    return { retry: false, condition: { type: "WorkloadReady", status: "True", reason: "IngestDisabled", message: "ingest.enabled is false: no collector runs" } };
  }
  const outcome = await applyWorkload(ctx, desiredCollectorWorkload(owner, stream, ctx.config));
  return { retry: outcome.retry, condition: outcome.condition, ...(outcome.condition.status === "True" && { url: ingestUrl(stream) }) };
}
