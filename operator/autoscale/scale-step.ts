/**
 * Decide a worker's replicas: fixed when `scaling.replicas` is set (kubectl scale, HPA,
 * KEDA through the scale subresource), otherwise from lag. Best effort: when lag cannot
 * be observed the Deployment keeps the replicas it has, and the reconcile goes on.
 */
import type { OperatorContext } from "../context.js";
import { errorMessage, isNotFound } from "../errors.js";
import { observeLag } from "./observe-lag.js";

export interface ScaleInput {
  key: string;
  namespace: string;
  deployment: string;
  groupId: string;
  topic: string;
  partitions: number;
  scaling: { minReplicas: number; maxReplicas: number; targetLagSeconds: number; replicas?: number };
  /** The Kafka cluster the group consumes from. */
  kafkaCluster?: string;
}

export interface ScaleOutcome {
  replicas: number;
  lagMessages?: number;
  lagSeconds?: number;
}

export async function decideReplicas(ctx: OperatorContext, i: ScaleInput): Promise<ScaleOutcome> {
  const current = (await currentReplicas(ctx, i.namespace, i.deployment)) ?? i.scaling.minReplicas;
  let sample;
  try {
    sample = await ctx.withKafkaAdmin((admin) => observeLag(admin, i.groupId, i.topic, ctx.clock.now()), i.kafkaCluster);
  } catch (err) {
    ctx.log.warn("lag not observed, replicas held", { key: i.key, error: errorMessage(err) });
    return { replicas: i.scaling.replicas ?? current };
  }
  const d = ctx.autoscaler.decide(i.key, { sample, current, minReplicas: i.scaling.minReplicas, maxReplicas: i.scaling.maxReplicas, partitions: i.partitions, targetLagSeconds: i.scaling.targetLagSeconds });
  return { replicas: i.scaling.replicas ?? d.replicas, lagMessages: d.lagMessages, lagSeconds: d.lagSeconds };
}

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
export function setLag(status: { lagMessages?: number; lagSeconds?: number }, scale: ScaleOutcome): void {
  if (scale.lagMessages === undefined) delete status.lagMessages;
  else status.lagMessages = scale.lagMessages;
  if (scale.lagSeconds === undefined) delete status.lagSeconds;
  else status.lagSeconds = Math.round(scale.lagSeconds * 1000) / 1000;
}
