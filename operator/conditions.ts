/**
 * Kubernetes conditions, computed as pure functions: setting a condition to the status it
 * already has keeps its lastTransitionTime, so an unchanged world writes no status.
 */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface ConditionInput {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

/** Returns a new list with `c` set; the input is not modified. */
export function setCondition(list: readonly Condition[], c: ConditionInput, generation: number, now: Date): Condition[] {
  const old = list.find((x) => x.type === c.type);
  const next: Condition = {
    type: c.type,
    status: c.status,
    observedGeneration: generation,
    lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    reason: c.reason,
    message: c.message,
  };
  return old ? list.map((x) => (x.type === c.type ? next : x)) : [...list, next];
}

export function findCondition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

/**
 * Ready summarises the dependency conditions: True only when every one is True; otherwise
 * it carries the first failing dependency's reason and message.
 */
export function readyFrom(list: readonly Condition[], dependencies: readonly string[]): ConditionInput {
  for (const type of dependencies) {
    const c = list.find((x) => x.type === type);
    if (!c) return { type: "Ready", status: "Unknown", reason: "Reconciling", message: `${type} not evaluated yet` };
    if (c.status !== "True") return { type: "Ready", status: "False", reason: c.reason, message: `${type}: ${c.message}` };
  }
  return { type: "Ready", status: "True", reason: "Ready", message: "everything declared is in place" };
}
