/**
 * Building blocks shared by the Sluice kinds. Every schema carries a description: they
 * become the CRD's OpenAPI schema, which is what `kubectl explain` prints.
 */
import { z } from "zod";

export const GROUP = "sluice.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A CEL rule for the CRD, mirrored by a zod refinement so offline validation agrees. */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}
export const cel = (...rules: CelRule[]) => ({ "x-kubernetes-validations": rules });

/**
 * Go duration syntax ("500ms", "10s", "1h30m"): the API server's CEL `duration()` parses
 * exactly this, which lets CRD rules compare windows (slide <= size).
 */
export const DURATION_PATTERN = "^([0-9]+(ms|s|m|h))+$";
export const duration = (description: string) =>
  z.string().max(32).regex(new RegExp(DURATION_PATTERN), "must be a duration such as 500ms, 10s, 5m or 1h30m").describe(description);

/** Retention also takes days ("7d"), and "infinite"; it is never compared in CEL. */
export const RETENTION_PATTERN = "^([0-9]+(ms|s|m|h|d)|infinite)$";
export const retention = (description: string) =>
  z.string().max(32).regex(new RegExp(RETENTION_PATTERN), "must be a retention such as 12h, 7d or infinite").describe(description);

/** A Kubernetes object name (RFC 1123 label), as used for references in the same namespace. */
export const objectName = (description: string) =>
  z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a lowercase RFC 1123 name: a-z, 0-9 and '-', starting and ending alphanumeric")
    .describe(description);

/** A ClickHouse identifier or an event field name: safe to splice into SQL unquoted. */
export const identifier = (description: string) =>
  z
    .string()
    .min(1)
    .max(63)
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an identifier: letters, digits and '_', not starting with a digit")
    .describe(description);

/** A Kafka topic name (legal characters and length, per Kafka's own rules). */
export const topicName = (description: string) =>
  z
    .string()
    .min(1)
    .max(249)
    .regex(/^[a-zA-Z0-9._-]+$/, "must be a Kafka topic name: letters, digits, '.', '_' and '-'")
    .describe(description);

export const secretRef = z
  .object({
    name: objectName("Name of a Secret in the resource's namespace."),
  })
  .strict()
  .describe("Reference to a Secret in the same namespace. Credentials are never written inline in a spec.");

/**
 * Where Kafka and ClickHouse live is operator configuration (Helm values). A resource may
 * pick another configured cluster by name; it never carries addresses or credentials.
 */
export const clusterRefs = z
  .object({
    kafka: objectName("Name of a Kafka cluster in the operator configuration (Helm values `kafka.clusters`). Default: the operator's default Kafka cluster.").optional(),
    clickhouse: objectName("Name of a ClickHouse cluster in the operator configuration (Helm values `clickhouse.clusters`). Default: the operator's default ClickHouse cluster.").optional(),
  })
  .strict()
  .describe("Per-resource override of where Kafka and ClickHouse are, by the name of a cluster the operator is configured with (--kafka-cluster, --clickhouse-cluster; \"default\" is its own). An EventStream picks its Kafka; a Sink or Aggregation reads its stream's Kafka and picks its ClickHouse. An unknown name is refused (Ready=False, InvalidSpec), never replaced by the default cluster.");

export const scaling = z
  .object({
    minReplicas: z.number().int().min(0).max(1000).default(1).describe("Fewest worker replicas. 0 lets the autoscaler stop the workers once no lag is left and nothing arrives for a whole scale-down window; any lag wakes them. Missing metrics never scale to zero."),
    maxReplicas: z.number().int().min(1).max(1000).default(10).describe("Most worker replicas. Also capped by the source topic's partition count."),
    targetLagSeconds: z.number().int().min(1).max(86400).default(5).describe("Time-to-drain target in seconds: replicas are sized so the current lag drains within it."),
    scaleDownStabilizationSeconds: z.number().int().min(0).max(86400).default(120).describe("Scale down only to the highest recommendation of this many seconds, so a lull does not shed workers the next burst needs. Scaling up is immediate."),
    replicas: z.number().int().min(0).max(1000).optional().describe("Fixed replica count, written by `kubectl scale`, HPA or KEDA through the scale subresource. When set, lag-based autoscaling is off."),
  })
  .strict()
  .meta(cel({ rule: "self.minReplicas <= self.maxReplicas", message: "minReplicas must not exceed maxReplicas", fieldPath: ".minReplicas" }))
  .superRefine((s, ctx) => {
    if (s.minReplicas > s.maxReplicas) ctx.addIssue({ code: "custom", path: ["minReplicas"], message: "minReplicas must not exceed maxReplicas" });
  })
  .describe("Worker scaling bounds and the lag target the autoscaler works to.");

const quantity = z
  .string()
  .max(32)
  .regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, "a Kubernetes quantity, e.g. 250m, 1, 512Mi, 2Gi")
  .describe("A Kubernetes quantity.");
const cpuMemory = z.object({ cpu: quantity.optional(), memory: quantity.optional() }).strict();

export const workerResources = z
  .object({
    requests: cpuMemory.optional().describe("What each worker pod is scheduled with. Unset: cpu 100m, memory 256Mi."),
    limits: cpuMemory.optional().describe("What each worker pod may use at most. Unset: memory 1Gi, no CPU limit. A CPU limit also bounds what one replica works off, which the lag autoscaler measures."),
  })
  .strict()
  .describe("CPU and memory of each worker pod, as in a Pod's resources; merged over the defaults.");

export const condition = z
  .object({
    type: z.string().max(316).describe("Condition type: Ready; SchemaCompatible, TopicReady, WorkloadReady (EventStream); SourceReady, TableReady, WorkloadReady, Retrying (Sink, Aggregation). See docs/conditions.md."),
    status: z.enum(["True", "False", "Unknown"]).describe("True, False or Unknown."),
    observedGeneration: z.number().int().min(0).optional().describe("The .metadata.generation this condition was computed from."),
    lastTransitionTime: z.string().describe("When the status last changed (RFC 3339)."),
    reason: z.string().max(1024).describe("A CamelCase, machine-readable reason for the status."),
    message: z.string().max(32768).describe("A human-readable explanation."),
  })
  .describe("A standard Kubernetes condition.");

export const statusBase = {
  observedGeneration: z.number().int().min(0).optional().describe("The .metadata.generation the operator last reconciled successfully."),
  conditions: z
    .array(condition)
    .max(16)
    .optional()
    .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] })
    .describe("Ready plus one condition per dependency, each with a reason: SchemaCompatible, TopicReady and WorkloadReady for an EventStream; SourceReady, TableReady and WorkloadReady for a Sink or Aggregation, which also have Retrying (a worker retrying a Kafka or ClickHouse step; not part of Ready)."),
};

export const workerStatus = {
  ...statusBase,
  replicas: z.number().int().min(0).optional().describe("Worker replicas currently running (the scale subresource's status)."),
  selector: z.string().optional().describe("Label selector of the worker pods, for the scale subresource (HPA)."),
  lagMessages: z.number().int().min(0).optional().describe("Consumer lag in messages, summed over partitions."),
  lagSeconds: z.number().min(0).optional().describe("Consumer lag in seconds: the lag divided by the consumption rate, i.e. how long the backlog takes to drain at the current pace."),
  autoscaling: z
    .object({
      currentReplicas: z.number().int().min(0).describe("The worker Deployment's replicas when last observed."),
      desiredReplicas: z.number().int().min(0).describe("What the autoscaler (or spec.scaling.replicas) asks for."),
      incomingPerSecond: z.number().min(0).optional().describe("Events per second added to the source topic, over the lookback window."),
      consumedPerSecond: z.number().min(0).optional().describe("Events per second the consumer group worked off, over the lookback window."),
      capacityPerReplicaPerSecond: z.number().min(0).optional().describe("Measured events per second one worker works off."),
      maxPartitionLag: z.number().int().min(0).optional().describe("The largest lag of any one partition, in messages."),
      reason: z.string().max(64).describe("Why the count is what it is: BacklogAboveTarget, OnTarget, LoadDropped, ScaleDownStabilizing, RebalanceSettling, MetricsUnavailable, NoProgress, Warming, Idle, WakeOnLag, OutOfBounds, FixedReplicas."),
      message: z.string().max(1024).describe("The last decision in words: lag, rates, capacity and the count."),
      lastScaleTime: z.string().optional().describe("When the autoscaler last changed the replicas (RFC 3339)."),
      lastScaleReason: z.string().max(1024).optional().describe("Why it changed them then."),
    })
    .optional()
    .describe("The lag autoscaler's observations and last decision."),
};

/**
 * What deleting a resource does to the data it owns. Each kind owns its own data: a stream
 * its topics, a Sink its table, an Aggregation its aggregate and late tables.
 */
export const deletionPolicy = (description: string) => z.enum(["Retain", "Delete"]).default("Retain").describe(description);

/** Unique names in a list: the CRD enforces this with a list-map, zod with this check. */
export function uniqueBy<T>(key: (t: T) => string, what: string) {
  return (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const k = key(item);
      if (seen.has(k)) ctx.addIssue({ code: "custom", path: [i], message: `duplicate ${what} "${k}"` });
      seen.add(k);
    });
  };
}
