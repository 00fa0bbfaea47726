/**
 * Which watch events are worth a reconcile. Status writes (ours included) do not change
 * metadata.generation, so they never retrigger the object they were written to; spec
 * changes and the start of a deletion do.
 */
import type { Obj } from "./informer.js";

export interface Seen {
  generation: number;
  deleting: boolean;
}

export function seenOf(o: Obj): Seen {
  return { generation: o.metadata?.generation ?? 0, deleting: !!o.metadata?.deletionTimestamp };
}

/** True when `now` needs a reconcile given what was seen last time (undefined: first sight). */
export function needsReconcile(last: Seen | undefined, now: Seen): boolean {
  if (!last) return true;
  return now.generation !== last.generation || (now.deleting && !last.deleting);
}

/**
 * What a dependent (a Sink) cares about in its source stream: the spec, the schema version
 * it runs and whether it is ready. A fingerprint change re-queues the dependents.
 */
export function streamFingerprint(o: Obj): string {
  const ready = (o.status?.conditions as { type: string; status: string }[] | undefined)?.find((c) => c.type === "Ready")?.status ?? "";
  return `${o.metadata?.generation ?? 0}/${o.status?.schemaVersion ?? ""}/${o.status?.topic ?? ""}/${ready}`;
}
