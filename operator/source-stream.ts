/**
 * Resolve the stream a worker reads, as the workers will run it: the stream's spec with
 * the schema replaced by the running (accepted) version from its ConfigMap, so a refused
 * schema change never reaches a table or a worker.
 */
import type { EventStreamSpec } from "../api/eventstream.js";
import { compileStream } from "../runtime/pipeline/compile.js";
import type { CompiledStream } from "../runtime/pipeline/compiled.js";
import type { ConditionInput } from "./conditions.js";
import type { OperatorContext } from "./context.js";
import { TransientError, errorMessage, isNotFound } from "./errors.js";
import { PLURAL as STREAMS } from "./eventstream/reconcile.js";
import { getObject } from "./get-object.js";
import { schemaConfigMapName, storedSchemas } from "./eventstream/schema-store.js";
import { validateSpec } from "./validate.js";
import { streamPlacement } from "./clusters.js";

export type StreamOutcome =
  /** kafka: the cluster the stream's topics are on (its readers read there). */
  | { ok: true; stream: CompiledStream; kafka: string; condition: ConditionInput }
  /** retry: the stream may appear or become ready on its own (it is also watched). */
  | { ok: false; retry: boolean; condition: ConditionInput };

export const sourceNotReady = (reason: string, message: string, retry: boolean): { ok: false; retry: boolean; condition: ConditionInput } => ({
  ok: false,
  retry,
  condition: { type: "SourceReady", status: "False", reason, message },
});

export async function resolveStream(ctx: OperatorContext, namespace: string, name: string): Promise<StreamOutcome> {
  const obj = await getObject(ctx, STREAMS, namespace, name);
  if (!obj) return sourceNotReady("StreamNotFound", `EventStream ${name} not found in namespace ${namespace}`, true);
  const version = obj.status?.schemaVersion as number | undefined;
  if (version === undefined) return sourceNotReady("StreamNotReady", `EventStream ${name} has no accepted schema yet`, true);
  const valid = validateSpec<EventStreamSpec>(obj);
  if (!valid.ok) return sourceNotReady("StreamInvalid", `EventStream ${name}: ${valid.message}`, false);
  const placement = streamPlacement(valid.spec.clusters, ctx.config);
  if (!placement.ok) return sourceNotReady("StreamInvalid", `EventStream ${name}: ${placement.message}`, false);
  const fields = await runningFields(ctx, namespace, name, version);
  if (!fields) return sourceNotReady("StreamNotReady", `schema v${version} of EventStream ${name} is not stored`, true);
  const spec: EventStreamSpec = { ...valid.spec, schema: { ...valid.spec.schema, version, fields } };
  const stream = compileStream({ kind: "EventStream", metadata: { name, namespace }, spec });
  return { ok: true, stream, kafka: placement.kafka, condition: { type: "SourceReady", status: "True", reason: "StreamResolved", message: `reading ${stream.topic} with schema v${version}` } };
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
