/**
 * Schema evolution rules, as a pure decision over the running schema and the declared one.
 *
 * - Backward (new readers read old events): fields may be added as optional; none removed,
 *   none retyped, none made required.
 * - Forward (old readers read new events): fields may be added (even required) and
 *   optional fields removed; none retyped, no required field removed or made optional.
 * - Full: both at once: only optional fields added; nothing removed, retyped or re-flagged.
 *   (Removal is refused even for optional fields: a ClickHouse column is never dropped.)
 * - None: anything goes; the operator still keeps every version.
 *
 * A retype is always refused: the ClickHouse column already has the old type.
 */
import type { CompiledField } from "../../runtime/pipeline/compiled.js";

export type Compatibility = "Backward" | "Forward" | "Full" | "None";

export interface SchemaVersion {
  version: number;
  fields: readonly CompiledField[];
}

export interface CompatIssue {
  field: string;
  problem: string;
}

export type SchemaDecision =
  /** Same version, same fields: nothing to store. */
  | { action: "unchanged" }
  /** A new version that passes the check: store it and run it. */
  | { action: "accept" }
  | { action: "refuse"; reason: "Incompatible" | "VersionNotRaised"; issues: CompatIssue[]; message: string };

export function decideSchema(running: SchemaVersion | undefined, declared: SchemaVersion, mode: Compatibility): SchemaDecision {
  if (!running) return { action: "accept" };
  const issues = compatibilityIssues(running.fields, declared.fields, mode);
  if (declared.version === running.version) {
    if (sameFields(running.fields, declared.fields)) return { action: "unchanged" };
    return refuse("VersionNotRaised", [{ field: "schema.version", problem: `fields changed but version is still ${running.version}; every version is kept, so raise it` }]);
  }
  if (declared.version < running.version) {
    return refuse("VersionNotRaised", [{ field: "schema.version", problem: `version ${declared.version} is older than the running version ${running.version}` }]);
  }
  if (issues.length > 0) return refuse("Incompatible", issues, mode, running.version, declared.version);
  return { action: "accept" };
}

function refuse(reason: "Incompatible" | "VersionNotRaised", issues: CompatIssue[], mode?: Compatibility, from?: number, to?: number): SchemaDecision {
  const list = issues.map((i) => `field "${i.field}" ${i.problem}`).join("; ");
  const message = reason === "Incompatible" ? `schema v${to} is not ${mode}-compatible with running v${from}: ${list}` : list;
  return { action: "refuse", reason, issues, message };
}

export function compatibilityIssues(old: readonly CompiledField[], next: readonly CompiledField[], mode: Compatibility): CompatIssue[] {
  if (mode === "None") {
    // Even without a compatibility promise, the table cannot change a column's type.
    return retypes(old, next);
  }
  const issues: CompatIssue[] = [...retypes(old, next)];
  const before = new Map(old.map((f) => [f.name, f]));
  const after = new Map(next.map((f) => [f.name, f]));
  const backward = mode === "Backward" || mode === "Full";
  const forward = mode === "Forward" || mode === "Full";
  for (const f of next) {
    const was = before.get(f.name);
    if (!was) {
      if (backward && f.required) issues.push({ field: f.name, problem: "is new and required: old events lack it (add it as optional)" });
      continue;
    }
    if (backward && f.required && !was.required) issues.push({ field: f.name, problem: "became required: old events may lack it" });
    if (forward && !f.required && was.required) issues.push({ field: f.name, problem: "became optional: old readers require it" });
  }
  for (const f of old) {
    if (after.has(f.name)) continue;
    if (backward || f.required) issues.push({ field: f.name, problem: "was removed: fields are never removed under " + mode + " compatibility" });
  }
  return issues;
}

function retypes(old: readonly CompiledField[], next: readonly CompiledField[]): CompatIssue[] {
  const after = new Map(next.map((f) => [f.name, f]));
  return old.flatMap((f) => {
    const n = after.get(f.name);
    return n && n.type !== f.type ? [{ field: f.name, problem: `changed type from ${f.type} to ${n.type}` }] : [];
  });
}

function sameFields(a: readonly CompiledField[], b: readonly CompiledField[]): boolean {
  const key = (fs: readonly CompiledField[]) => JSON.stringify(fs.map((f) => [f.name, f.type, f.required, f.description ?? ""]));
  return key(a) === key(b);
}
