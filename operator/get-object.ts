/** Reads one Sluice object fresh from the API server (not the informer cache); undefined when it is gone. */
import { GROUP, VERSION } from "../api/common.js";
import type { OperatorContext } from "./context.js";
import { isNotFound } from "./errors.js";
import type { Obj } from "./informer.js";

export async function getObject(ctx: Pick<OperatorContext, "custom">, plural: string, namespace: string, name: string): Promise<Obj | undefined> {
  try {
    return (await ctx.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name })) as Obj;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
