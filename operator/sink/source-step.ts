/** Resolve a Sink's source stream (running schema) and compile the sink against it. */
import type { SinkSpec } from "../../api/sink.js";
import { compileSink, PipelineError } from "../../runtime/pipeline/compile.js";
import type { CompiledSink } from "../../runtime/pipeline/compiled.js";
import type { ConditionInput } from "../conditions.js";
import type { OperatorContext } from "../context.js";
import { resolveStream, sourceNotReady } from "../source-stream.js";
import { readerPlacement } from "../clusters.js";

/** On success, also where the sink runs: its stream's Kafka and its own ClickHouse. */
export type SourceOutcome =
  | { ok: true; sink: CompiledSink; kafka: string; clickhouse: string; condition: ConditionInput }
  | { ok: false; retry: boolean; condition: ConditionInput };

export async function resolveSource(ctx: OperatorContext, namespace: string, name: string, spec: SinkSpec): Promise<SourceOutcome> {
  if (!spec.source.stream) return sourceNotReady("Unsupported", "sinks of aggregation results are not supported by the operator yet", false);
  const resolved = await resolveStream(ctx, namespace, spec.source.stream);
  if (!resolved.ok) return resolved;
  const placement = readerPlacement(spec.clusters, { name: spec.source.stream, kafka: resolved.kafka }, ctx.config);
  if (!placement.ok) return sourceNotReady("InvalidSpec", placement.message, false);
  try {
    const sink = compileSink({ kind: "Sink", metadata: { name, namespace }, spec }, [resolved.stream]);
    return { ok: true, sink, kafka: placement.kafka, clickhouse: placement.clickhouse, condition: resolved.condition };
  } catch (err) {
    if (err instanceof PipelineError) return sourceNotReady("InvalidSpec", err.message, false);
    throw err;
  }
}
