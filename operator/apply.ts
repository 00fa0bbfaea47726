/**
 * Server-side apply with one fixed field manager: the operator owns exactly the fields it
 * declares, a re-apply of the same object is a no-op on the server, and fields other
 * managers set (an HPA's replicas, a user's annotations) are left alone unless we declare
 * them too. `force` takes fields back from a manager that edited ours by hand: the
 * operator is the source of truth for what it declares.
 */
import * as k8s from "@kubernetes/client-node";

export const FIELD_MANAGER = "sluice-operator";

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: unknown[] };
  [key: string]: unknown;
}

export class Applier {
  private readonly api: k8s.KubernetesObjectApi;
  constructor(kc: k8s.KubeConfig) {
    this.api = k8s.KubernetesObjectApi.makeApiClient(kc);
  }

  async apply<T extends k8s.KubernetesObject = k8s.KubernetesObject>(obj: KubeObject): Promise<T> {
    return (await this.api.patch(obj as k8s.KubernetesObject, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply)) as T;
  }
}
