/**
 * Validates a live object with the API's own zod schemas, giving the defaulted spec. The
 * API server validated it already; this catches what only zod checks and gives us types.
 * Which clusters a resource may name is the operator's configuration: see clusters.ts.
 */
import { API_VERSION } from "../api/common.js";
import { validateDocument } from "../api/validate.js";
import type { Obj } from "./informer.js";

export type SpecVerdict<S> = { ok: true; spec: S } | { ok: false; message: string };

export function validateSpec<S>(obj: Obj): SpecVerdict<S> {
  const verdict = validateDocument({ apiVersion: API_VERSION, kind: obj.kind, metadata: { name: obj.metadata?.name, namespace: obj.metadata?.namespace }, spec: obj.spec });
  if (verdict.status === "valid") return { ok: true, spec: (verdict.value as { spec: S }).spec };
  if (verdict.status === "skipped") return { ok: false, message: verdict.reason };
  return { ok: false, message: verdict.issues.map((i) => `${i.path}: ${i.message}`).join("; ") };
}
