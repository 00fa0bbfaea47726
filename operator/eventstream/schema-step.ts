/**
 * Ensure the declared schema: decide against the running version (pure), then store an
 * accepted new version as its own ConfigMap. A refused change leaves the running version
 * in place and stores nothing.
 */
import type { CompiledStream } from "../../runtime/pipeline/compiled.js";
import type { EventStreamSpec } from "../../api/eventstream.js";
import type { OperatorContext } from "../context.js";
import type { OwnerRef } from "../owner.js";
import type { ConditionInput } from "../conditions.js";
import { TransientError, errorMessage } from "../errors.js";
import { decideSchema, type SchemaDecision } from "./schema-compat.js";
import { STREAM_LABEL, runningSchema, schemaConfigMap, storedSchemas } from "./schema-store.js";

export interface SchemaOutcome {
  condition: ConditionInput;
  /** The version workers run after this step. */
  runningVersion?: number;
  decision: SchemaDecision;
}

export async function ensureSchema(ctx: OperatorContext, owner: OwnerRef, spec: EventStreamSpec, stream: CompiledStream): Promise<SchemaOutcome> {
  const stored = await listStored(ctx, owner);
  const running = runningSchema(stored);
  const declared = { version: stream.schema.version, fields: stream.schema.fields };
  const decision = decideSchema(running, declared, spec.schema.compatibility);
  if (decision.action === "refuse") {
    return { decision, runningVersion: running?.version, condition: { type: "SchemaCompatible", status: "False", reason: decision.reason, message: decision.message } };
  }
  if (decision.action === "accept") {
    const cm = schemaConfigMap(owner, { version: declared.version, compatibility: spec.schema.compatibility, strict: spec.schema.strict, fields: declared.fields });
    try {
      await ctx.applier.apply(cm);
    } catch (err) {
      throw new TransientError(`storing schema v${declared.version}: ${errorMessage(err)}`, "SchemaStoreFailed", { cause: err });
    }
  }
  const message = decision.action === "accept" && running ? `v${declared.version} accepted (${spec.schema.compatibility}-compatible with v${running.version})` : `running v${declared.version}`;
  return { decision, runningVersion: declared.version, condition: { type: "SchemaCompatible", status: "True", reason: "Compatible", message } };
}

async function listStored(ctx: OperatorContext, owner: OwnerRef) {
  try {
    const list = await ctx.core.listNamespacedConfigMap({ namespace: owner.namespace, labelSelector: `${STREAM_LABEL}=${owner.name}` });
    return storedSchemas(list.items);
  } catch (err) {
    throw new TransientError(`listing stored schemas: ${errorMessage(err)}`, "SchemaStoreFailed", { cause: err });
  }
}
