/**
 * Decide a worker's replicas: fixed when `scaling.replicas` is set (kubectl scale, HPA,
 * KEDA through the scale subresource), otherwise from lag (replicas.ts). Best effort: when
 * lag cannot be observed the Deployment keeps the replicas it has, status says why, and
 * the reconcile goes on. Each change is a Kubernetes Event and a counted scale event.
 */
import type { OperatorContext } from "../context.js";
import { errorMessage, isNotFound } from "../errors.js";
import type { OwnerRef } from "../owner.js";
import { observeLag } from "./observe-lag.js";
import type { Decision, Observation } from "./replicas.js";

export interface ScaleInput {
  owner: OwnerRef & { kind: "Sink" | "Aggregation" };
  deployment: string;
  groupId: string;
  topic: string;
  partitions: number;
  scaling: { minReplicas: number; maxReplicas: number; targetLagSeconds: number; scaleDownStabilizationSeconds: number; replicas?: number };
  /** The Kafka cluster the group consumes from. */
  kafkaCluster?: string;
}

export interface AutoscalingStatus {
  currentReplicas: number;
  desiredReplicas: number;
  incomingPerSecond?: number;
  consumedPerSecond?: number;
  capacityPerReplicaPerSecond?: number;
  maxPartitionLag?: number;
  reason: string;
  message: string;
  lastScaleTime?: string;
  lastScaleReason?: string;
}

export interface ScaleOutcome {
  replicas: number;
  lagMessages?: number;
  lagSeconds?: number;
  status: AutoscalingStatus;
}

export async function decideReplicas(ctx: OperatorContext, i: ScaleInput, previous?: AutoscalingStatus): Promise<ScaleOutcome> {
  const { owner } = i;
  const key = `${owner.kind}/${owner.namespace}/${owner.name}`;
  const current = (await currentReplicas(ctx, owner.namespace, i.deployment)) ?? Math.max(1, i.scaling.minReplicas);
  let observation: Observation | undefined;
  let error: string | undefined;
  try {
    observation = await ctx.withKafkaAdmin((admin) => observeLag(admin, i.groupId, i.topic, ctx.clock.now()), i.kafkaCluster);
  } catch (err) {
    error = errorMessage(err);
  }
  const d: Decision = ctx.autoscaler.decide(key, {
    nowMs: ctx.clock.now(), observation, error, current,
    bounds: { minReplicas: i.scaling.minReplicas, maxReplicas: i.scaling.maxReplicas, partitions: i.partitions, targetLagSeconds: i.scaling.targetLagSeconds },
    policy: { lookbackMs: ctx.config.autoscaleLookbackMs, scaleDownStabilizationMs: i.scaling.scaleDownStabilizationSeconds * 1000, settleTimeoutMs: ctx.config.autoscaleSettleTimeoutMs },
  });
  const fixed = i.scaling.replicas;
  const replicas = fixed ?? d.replicas;
  const status: AutoscalingStatus = {
    currentReplicas: current,
    desiredReplicas: replicas,
    ...(d.incomingPerSecond !== undefined && { incomingPerSecond: round(d.incomingPerSecond) }),
    ...(d.consumedPerSecond !== undefined && { consumedPerSecond: round(d.consumedPerSecond) }),
    ...(d.capacityPerReplica !== undefined && { capacityPerReplicaPerSecond: round(d.capacityPerReplica) }),
    ...(observation && { maxPartitionLag: Math.max(0, ...observation.partitionLag) }),
    reason: fixed !== undefined ? "FixedReplicas" : d.reason,
    message: fixed !== undefined ? `spec.scaling.replicas is ${fixed} (kubectl scale, HPA or KEDA): lag autoscaling is off; it would ${d.message}` : d.message,
    ...(previous?.lastScaleTime && { lastScaleTime: previous.lastScaleTime, lastScaleReason: previous.lastScaleReason }),
  };
  if (d.reason === "MetricsUnavailable") ctx.log.warn("lag not observed, replicas held", { key, error });
  if (fixed === undefined && replicas !== current) {
    status.lastScaleTime = ctx.now().toISOString();
    status.lastScaleReason = `${d.reason}: ${d.message}`;
    ctx.autoscaleMetrics?.scaleEvents.inc({ kind: owner.kind, namespace: owner.namespace, name: owner.name, direction: replicas > current ? "up" : "down" });
    await ctx.events.record(owner, "Normal", replicas > current ? "ScaledUp" : "ScaledDown", `${d.reason}: ${d.message}`);
    ctx.log.info("autoscaled", { key, from: current, to: replicas, reason: d.reason });
  }
  const labels = { kind: owner.kind, namespace: owner.namespace, name: owner.name };
  const m = ctx.autoscaleMetrics;
  if (m) {
    m.desired.set(labels, replicas);
    m.current.set(labels, current);
    if (d.lagMessages !== undefined) m.lagMessages.set(labels, d.lagMessages);
    if (d.lagSeconds !== undefined && Number.isFinite(d.lagSeconds)) m.lagSeconds.set(labels, d.lagSeconds);
  }
  return { replicas, lagMessages: d.lagMessages, lagSeconds: d.lagSeconds, status };
}

// Two significant digits: status is written only when it changes, and noise in the third
// digit would rewrite it every interval.
const round = (n: number) => (n === 0 ? 0 : Number(n.toPrecision(2)));

/** The Deployment's replicas now (whoever set them last), undefined if it does not exist. */
export async function currentReplicas(ctx: Pick<OperatorContext, "apps">, namespace: string, name: string): Promise<number | undefined> {
  try {
    return (await ctx.apps.readNamespacedDeployment({ namespace, name })).spec?.replicas;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Lag into a worker status; a value that cannot be known now is removed, not left stale. */
export function setLag(status: { lagMessages?: number; lagSeconds?: number; autoscaling?: AutoscalingStatus }, scale: ScaleOutcome): void {
  if (scale.lagMessages === undefined) delete status.lagMessages;
  else status.lagMessages = scale.lagMessages;
  if (scale.lagSeconds === undefined || !Number.isFinite(scale.lagSeconds)) delete status.lagSeconds;
  else status.lagSeconds = Math.round(scale.lagSeconds * 1000) / 1000;
  status.autoscaling = scale.status;
}
