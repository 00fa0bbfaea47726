/** Identity of a Sluice custom object, as owner references and labels need it. */
import { API_VERSION } from "../api/common.js";

export interface OwnerRef {
  kind: string;
  name: string;
  namespace: string;
  uid: string;
}

export function ownerReference(o: OwnerRef) {
  // controller: true makes the Sluice object the one managing controller of its children;
  // blockOwnerDeletion keeps foreground deletion ordered.
  return { apiVersion: API_VERSION, kind: o.kind, name: o.name, uid: o.uid, controller: true, blockOwnerDeletion: true };
}

/** Recommended labels; `component` is "sink" or "aggregation". */
export function workerLabels(component: string, instance: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": `sluice-${component}`,
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": "sluice",
    "app.kubernetes.io/managed-by": "sluice-operator",
  };
}

/** The labels that select one worker's pods: stable forever (a Deployment's selector is immutable). */
export function selectorLabels(component: string, instance: string): Record<string, string> {
  return { "app.kubernetes.io/name": `sluice-${component}`, "app.kubernetes.io/instance": instance };
}

export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",");
}
