/**
 * Stops a worker Deployment without deleting it: a merge patch of replicas to 0 (the
 * operator has no delete permission; its children go by owner-reference GC). Not a
 * server-side apply: an apply of just `replicas` would drop every other field the
 * operator's manager owns. A later apply (with force) takes replicas back.
 */
import * as k8s from "@kubernetes/client-node";
import type { OperatorContext } from "../context.js";
import { TransientError, errorMessage, isNotFound, statusCode } from "../errors.js";

const STOP_MANAGER = "sluice-operator-stop";

/** Scales the Deployment to 0; true once it reports no pods (or does not exist). */
export async function scaleToZero(ctx: OperatorContext, namespace: string, name: string): Promise<boolean> {
  try {
    const d = await ctx.apps.patchNamespacedDeployment(
      { namespace, name, body: { spec: { replicas: 0 } }, fieldManager: STOP_MANAGER },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    return (d.status?.replicas ?? 0) === 0;
  } catch (err) {
    if (isNotFound(err)) return true;
    // A per-namespace install loses its Role when the namespace is deleted; the pods go
    // with the namespace (nothing new can start in one that is terminating), so the
    // workers are stopping anyway. Anything else forbidden is a real error.
    if (statusCode(err) === 403 && (await namespaceTerminating(ctx, namespace))) return true;
    throw new TransientError(`stopping workers ${namespace}/${name}: ${errorMessage(err)}`, "KubernetesUnavailable", { cause: err });
  }
}

async function namespaceTerminating(ctx: OperatorContext, name: string): Promise<boolean> {
  try {
    const ns = await ctx.core.readNamespace({ name });
    return ns.metadata?.deletionTimestamp !== undefined || ns.status?.phase === "Terminating";
  } catch (err) {
    return isNotFound(err);
  }
}
