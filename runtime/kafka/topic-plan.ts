/**
 * What to do to make a Kafka topic match its declaration: pure, so the operator and
 * `sluice run` decide identically and the decision is testable without a broker.
 */
export interface DesiredTopic {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Topic configs Sluice manages (retention.ms, min.insync.replicas, compression.type). */
  configs: Record<string, string>;
}

export interface ObservedTopic {
  partitions: number;
  configs: Record<string, string>;
}

export type TopicPlan =
  | { action: "create" }
  | { action: "update"; addPartitions?: number; configDrift: Record<string, { have: string | undefined; want: string }> }
  | { action: "none" }
  /** Kafka cannot remove partitions without reordering keys; we refuse and say so. */
  | { action: "refuse-shrink"; have: number; want: number };

export function planTopic(desired: DesiredTopic, observed: ObservedTopic | undefined): TopicPlan {
  if (!observed) return { action: "create" };
  if (desired.partitions < observed.partitions) return { action: "refuse-shrink", have: observed.partitions, want: desired.partitions };
  const configDrift: Record<string, { have: string | undefined; want: string }> = {};
  for (const [key, want] of Object.entries(desired.configs)) {
    if (observed.configs[key] !== want) configDrift[key] = { have: observed.configs[key], want };
  }
  const grow = desired.partitions > observed.partitions;
  if (!grow && Object.keys(configDrift).length === 0) return { action: "none" };
  return { action: "update", ...(grow ? { addPartitions: desired.partitions } : {}), configDrift };
}

/** Kafka's name for "no compression" differs from the API's. */
export function topicConfigs(s: { retentionMs: number; minInSyncReplicas: number; compression: string }): Record<string, string> {
  return {
    "retention.ms": Number.isFinite(s.retentionMs) ? String(s.retentionMs) : "-1",
    "min.insync.replicas": String(s.minInSyncReplicas),
    "compression.type": s.compression === "none" ? "uncompressed" : s.compression,
  };
}
