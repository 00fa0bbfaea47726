/**
 * An Aggregation manifest compiled for its worker: the engine's config (all in ms), the
 * resolved stream, the consumer group and every table and topic name, so the worker and
 * `sluice run` never apply a default twice or handle "unset".
 */
import type { AggregationSpec } from "../../api/aggregation.js";
import { compileAggregation, type CompiledAggregation } from "../aggregate/compile.js";
import { PipelineError, type Manifest } from "../pipeline/compile.js";
import type { CompiledStream } from "../pipeline/compiled.js";

/** Columns the aggregate table holds besides group-by fields and measures. */
export const AGGREGATE_SYSTEM_COLUMNS = ["window_start", "window_end", "version", "is_deleted", "firing", "_written_at"] as const;

export type LateOutput = { policy: "Table"; database: string; table: string } | { policy: "Topic"; topic: string };

export interface CompiledAggregationJob {
  namespace: string;
  name: string;
  stream: CompiledStream;
  /** Kafka consumer group: stable per aggregation, its commit metadata holds the checkpoint. */
  groupId: string;
  engine: CompiledAggregation;
  output: { database: string; table: string };
  late: LateOutput;
  scaling: { minReplicas: number; maxReplicas: number; targetLagSeconds: number; scaleDownStabilizationSeconds: number; replicas?: number };
  /** Why the job runs on one worker only (set when a group's events span partitions). */
  singleWorker?: string;
}

/**
 * Each worker aggregates the partitions it owns, so a group must live in one partition: the
 * stream's partition key must be one of the group-by fields. Otherwise two workers would
 * write partial values under one key, so the job is held to one worker (correct, slower).
 */
function placement(groupBy: readonly string[], stream: CompiledStream, scaling: CompiledAggregationJob["scaling"]): Pick<CompiledAggregationJob, "scaling" | "singleWorker"> {
  if (groupBy.includes(stream.keys.partitionBy)) return { scaling };
  const singleWorker = `one worker only: groupBy (${groupBy.join(", ") || "none"}) does not include the partition key "${stream.keys.partitionBy}" of stream ${stream.name}, so a group's events span partitions; set keys.partitionBy to a group-by field to scale out`;
  return { scaling: { ...scaling, minReplicas: 1, maxReplicas: 1, ...(scaling.replicas !== undefined && { replicas: Math.min(1, scaling.replicas) }) }, singleWorker };
}

export function compileAggregationJob(m: Manifest<AggregationSpec>, streams: CompiledStream[], defaultNamespace = "default"): CompiledAggregationJob {
  const namespace = m.metadata.namespace ?? defaultNamespace;
  const id = `Aggregation ${namespace}/${m.metadata.name}`;
  const s = m.spec;
  const stream = streams.find((st) => st.namespace === namespace && st.name === s.source.stream);
  if (!stream) throw new PipelineError(`source stream "${s.source.stream}" not found in namespace ${namespace}`, id);
  let engine: CompiledAggregation;
  try {
    engine = compileAggregation(s);
  } catch (err) {
    throw new PipelineError((err as Error).message, id);
  }
  const fields = new Set(stream.schema.fields.map((f) => f.name));
  for (const g of engine.groupBy) if (!fields.has(g)) throw new PipelineError(`groupBy field "${g}" is not a field of stream ${stream.name}`, id);
  for (const ms of engine.measures) {
    if (ms.field !== undefined && !fields.has(ms.field)) throw new PipelineError(`measure "${ms.name}" reads "${ms.field}", which is not a field of stream ${stream.name}`, id);
  }
  // The engine refuses its own camelCase names; the table adds snake_case ones.
  const system = new Set<string>(AGGREGATE_SYSTEM_COLUMNS);
  for (const c of [...engine.groupBy, ...engine.measures.map((x) => x.name)]) {
    if (system.has(c)) throw new PipelineError(`output column "${c}" clashes with a column the aggregate table adds (${AGGREGATE_SYSTEM_COLUMNS.join(", ")})`, id);
  }
  const output = { database: s.output.clickhouse.database, table: s.output.clickhouse.table };
  const late: LateOutput =
    s.lateData.policy === "Topic"
      ? { policy: "Topic", topic: s.lateData.topic ?? `${stream.topic}.late` }
      : { policy: "Table", database: output.database, table: s.lateData.table ?? `${output.table}_late` };
  return {
    namespace,
    name: m.metadata.name,
    stream,
    groupId: `sluice.${namespace}.aggregation.${m.metadata.name}`,
    engine: { ...engine, groupsInOnePartition: engine.groupBy.includes(stream.keys.partitionBy) },
    output,
    late,
    ...placement(engine.groupBy, stream, { ...s.scaling }),
  };
}
