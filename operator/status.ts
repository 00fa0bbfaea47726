/**
 * Status is computed on a copy during a reconcile and written once at the end, through the
 * status subresource, only if it differs from what was read. A condition that changed
 * status or reason is reported so the caller can emit one Kubernetes Event per transition.
 */
import * as k8s from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/common.js";
import { readyFrom, setCondition, type Condition, type ConditionInput } from "./conditions.js";
import { canonicalJson } from "./spec-hash.js";

export interface StatusBase {
  observedGeneration?: number;
  conditions?: Condition[];
  [key: string]: unknown;
}

export class StatusDraft<S extends StatusBase> {
  readonly next: S;
  private readonly original: S;

  constructor(current: S | undefined, private readonly generation: number, private readonly now: Date) {
    this.original = structuredClone(current ?? ({} as S));
    this.next = structuredClone(this.original);
  }

  condition(c: ConditionInput): this {
    this.next.conditions = setCondition(this.next.conditions ?? [], c, this.generation, this.now);
    return this;
  }

  /** Ready from the dependencies; the generation is marked observed only if all are True. */
  finish(dependencies: readonly string[]): this {
    const ready = readyFrom(this.next.conditions ?? [], dependencies);
    this.condition(ready);
    if (ready.status === "True") this.next.observedGeneration = this.generation;
    return this;
  }

  /** Whether `type` moved to a different status or reason in this reconcile. */
  transitioned(type: string): boolean {
    const before = this.original.conditions?.find((c) => c.type === type);
    const after = this.next.conditions?.find((c) => c.type === type);
    return before?.status !== after?.status || before?.reason !== after?.reason;
  }

  get changed(): boolean {
    return canonicalJson(this.original) !== canonicalJson(this.next);
  }

  /** A JSON merge patch body: removed fields are sent as null, or the server would keep them. */
  patch(): Record<string, unknown> {
    const body: Record<string, unknown> = { ...this.next };
    for (const key of Object.keys(this.original)) if (!(key in this.next)) body[key] = null;
    return body;
  }
}

/** Writes the draft through the status subresource if it changed. Returns whether it wrote. */
export async function writeStatus(custom: k8s.CustomObjectsApi, plural: string, namespace: string, name: string, draft: StatusDraft<StatusBase>): Promise<boolean> {
  if (!draft.changed) return false;
  await custom.patchNamespacedCustomObjectStatus(
    { group: GROUP, version: VERSION, namespace, plural, name, body: { status: draft.patch() } },
    k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
  );
  return true;
}
