/**
 * Validates a live object with the API's own zod schemas, giving the defaulted spec. The
 * API server validated it already; this catches what only zod checks and gives us types,
 * and what only the operator knows: which clusters it is configured with.
 */
import { API_VERSION } from "../api/common.js";
import { validateDocument } from "../api/validate.js";
import type { Obj } from "./informer.js";

export type SpecVerdict<S> = { ok: true; spec: S } | { ok: false; message: string };

/**
 * The clusters a resource may name in `spec.clusters`. Only the default ones exist until
 * named clusters are configurable; a resource naming another is refused rather than
 * silently written to the default cluster (its data would land somewhere it did not ask).
 */
export const KNOWN_CLUSTERS = { kafka: ["default"], clickhouse: ["default"] } as const;

export function validateSpec<S>(obj: Obj): SpecVerdict<S> {
  const verdict = validateDocument({ apiVersion: API_VERSION, kind: obj.kind, metadata: { name: obj.metadata?.name, namespace: obj.metadata?.namespace }, spec: obj.spec });
  if (verdict.status === "skipped") return { ok: false, message: verdict.reason };
  if (verdict.status !== "valid") return { ok: false, message: verdict.issues.map((i) => `${i.path}: ${i.message}`).join("; ") };
  const spec = (verdict.value as { spec: S & { clusters?: { kafka?: string; clickhouse?: string } } }).spec;
  const unknown = clusterProblems(spec.clusters);
  return unknown ? { ok: false, message: unknown } : { ok: true, spec };
}

function clusterProblems(clusters: { kafka?: string; clickhouse?: string } | undefined): string | undefined {
  const problems: string[] = [];
  for (const system of ["kafka", "clickhouse"] as const) {
    const name = clusters?.[system];
    const known: readonly string[] = KNOWN_CLUSTERS[system];
    if (name !== undefined && !known.includes(name)) {
      problems.push(`spec.clusters.${system}: no ${system === "kafka" ? "Kafka" : "ClickHouse"} cluster "${name}" in the operator configuration (configured: ${known.join(", ")})`);
    }
  }
  return problems.length > 0 ? problems.join("; ") : undefined;
}
