/**
 * Finalizers by JSON merge patch carrying the resourceVersion read: if the object changed
 * in between, the API server answers 409 and the reconcile retries on fresh data instead
 * of overwriting someone else's finalizer list.
 */
import * as k8s from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/common.js";

export const FINALIZER = "sluice.dev/cleanup";

interface Meta {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  finalizers?: string[];
}

export function hasFinalizer(meta: Meta): boolean {
  return (meta.finalizers ?? []).includes(FINALIZER);
}

export async function setFinalizers(custom: k8s.CustomObjectsApi, plural: string, meta: Meta, finalizers: string[]): Promise<void> {
  await custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      plural,
      namespace: meta.namespace!,
      name: meta.name!,
      body: { metadata: { finalizers, resourceVersion: meta.resourceVersion } },
    },
    k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
  );
}

export async function addFinalizer(custom: k8s.CustomObjectsApi, plural: string, meta: Meta): Promise<void> {
  if (!hasFinalizer(meta)) await setFinalizers(custom, plural, meta, [...(meta.finalizers ?? []), FINALIZER]);
}

export async function removeFinalizer(custom: k8s.CustomObjectsApi, plural: string, meta: Meta): Promise<void> {
  if (hasFinalizer(meta)) await setFinalizers(custom, plural, meta, (meta.finalizers ?? []).filter((f) => f !== FINALIZER));
}
