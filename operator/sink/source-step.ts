/**
 * Resolve a Sink's source stream as the workers will run it: the stream's spec with the
 * schema replaced by the running (accepted) version from its ConfigMap, so a refused
 * schema change never reaches a table or a worker.
 */
import type { EventStreamSpec } from "../../api/eventstream.js";
import type { SinkSpec } from "../../api/sink.js";
import { compileSink, compileStream, PipelineError } from "../../runtime/pipeline/compile.js";
import type { CompiledSink } from "../../runtime/pipeline/compiled.js";
import type { ConditionInput } from "../conditions.js";
import type { OperatorContext } from "../context.js";
import { TransientError, errorMessage, isNotFound } from "../errors.js";
import { getStream } from "../eventstream/reconcile.js";
import { schemaConfigMapName, storedSchemas } from "../eventstream/schema-store.js";
import { validateSpec } from "../validate.js";

export type SourceOutcome =
  | { ok: true; sink: CompiledSink; condition: ConditionInput }
  /** retry: the source may appear or become ready on its own (also watched). */
  | { ok: false; retry: boolean; condition: ConditionInput };

const notReady = (reason: string, message: string, retry: boolean): SourceOutcome => ({ ok: false, retry, condition: { type: "SourceReady", status: "False", reason, message } });

export async function resolveSource(ctx: OperatorContext, namespace: string, name: string, spec: SinkSpec): Promise<SourceOutcome> {
  if (!spec.source.stream) return notReady("Unsupported", "sinks of aggregation results are not supported by the operator yet", false);
  const obj = await getStream(ctx, namespace, spec.source.stream);
  if (!obj) return notReady("StreamNotFound", `EventStream ${spec.source.stream} not found in namespace ${namespace}`, true);
  const version = obj.status?.schemaVersion as number | undefined;
  if (version === undefined) return notReady("StreamNotReady", `EventStream ${spec.source.stream} has no accepted schema yet`, true);
  const valid = validateSpec<EventStreamSpec>(obj);
  if (!valid.ok) return notReady("StreamInvalid", `EventStream ${spec.source.stream}: ${valid.message}`, false);
  const fields = await runningFields(ctx, namespace, spec.source.stream, version);
  if (!fields) return notReady("StreamNotReady", `schema v${version} of EventStream ${spec.source.stream} is not stored`, true);
  const streamSpec: EventStreamSpec = { ...valid.spec, schema: { ...valid.spec.schema, version, fields } };
  const stream = compileStream({ kind: "EventStream", metadata: { name: spec.source.stream, namespace }, spec: streamSpec });
  try {
    const sink = compileSink({ kind: "Sink", metadata: { name, namespace }, spec }, [stream]);
    return { ok: true, sink, condition: { type: "SourceReady", status: "True", reason: "StreamResolved", message: `reading ${stream.topic} with schema v${version}` } };
  } catch (err) {
    if (err instanceof PipelineError) return notReady("InvalidSpec", err.message, false);
    throw err;
  }
}

async function runningFields(ctx: OperatorContext, namespace: string, stream: string, version: number) {
  try {
    const cm = await ctx.core.readNamespacedConfigMap({ namespace, name: schemaConfigMapName(stream, version) });
    return storedSchemas([cm])[0]?.fields.map((f) => ({ ...f }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw new TransientError(`reading schema v${version} of ${stream}: ${errorMessage(err)}`, "ApiUnavailable", { cause: err });
  }
}
