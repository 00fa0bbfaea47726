/**
 * docs/conditions.md must explain every reason the operator can set: a reason nobody can
 * look up is what a user meets at 3 a.m. in `kubectl get`. Reasons are found in the
 * source by the shapes they are written in, so a new one fails here until documented.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../api/repo-root.js";

const QUOTED = /"([A-Z][A-Za-z0-9]*)"/g;

/** The operator's sources, and the runtime file whose typed Kafka refusals become TopicReady reasons. */
function sources(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [join(dir, e.name)] : []));
  return [...walk(join(repoRoot, "operator")), join(repoRoot, "runtime/kafka/ensure-topic.ts")];
}

const quoted = (text: string) => [...text.matchAll(QUOTED)].map((m) => m[1]!);

/** Reasons written literally, in every shape the source sets one. */
function reasonsIn(source: string): string[] {
  const found: string[] = [];
  // reason: "X", reason = a ? "X" : "Y", reason: "X" | "Y" (a type), up to the end of the expression.
  for (const m of source.matchAll(/\breason\??\s*[:=]\s*([^;,\n{}()]*)/g)) found.push(...quoted(m[1]!));
  // type Reason = | "X" | "Y";
  for (const m of source.matchAll(/\btype\s+\w*Reason\w*\s*=([^;]*);/g)) found.push(...quoted(m[1]!));
  // sourceNotReady("X", ...): the condition helper takes the reason first.
  for (const m of source.matchAll(/\bsourceNotReady\(\s*"([A-Z]\w*)"/g)) found.push(m[1]!);
  // new TransientError(`message`, "X") and the like: the reason follows the message.
  for (const m of source.matchAll(/\bnew \w+Error\(\s*(?:`[^`]*`|"[^"]*"|[^,()`"]+)\s*,\s*"([A-Z]\w*)"/g)) found.push(m[1]!);
  // events.record(owner, "Normal", "X" or a ? "X" : "Y", message): an Event's reason.
  for (const m of source.matchAll(/\.record\(\s*\w+,\s*"(?:Normal|Warning)",\s*([^,]*),/g)) found.push(...quoted(m[1]!));
  return found;
}

/**
 * worker-retries.ts composes Retrying reasons from a system name and a suffix
 * (`${SYSTEM[l.system]}${... ? "Retrying" : "NotAnswering"}`); expand every combination.
 */
function composedRetryingReasons(source: string): string[] {
  const systems = source.match(/const SYSTEM = \{([^}]*)\}/);
  const suffixes = source.match(/const reasonOf = [^\n]*\?\s*"(\w+)"\s*:\s*"(\w+)"/);
  if (!systems || !suffixes) throw new Error("operator/workload/worker-retries.ts composes its reasons differently now: update composedRetryingReasons in this test");
  return quoted(systems[1]!).flatMap((s) => [s + suffixes[1]!, s + suffixes[2]!]);
}

function allReasons(): Map<string, string> {
  const where = new Map<string, string>();
  for (const file of sources()) {
    const text = readFileSync(file, "utf8");
    const found = [...reasonsIn(text), ...(file.endsWith("worker-retries.ts") ? composedRetryingReasons(text) : [])];
    for (const r of found) if (!where.has(r)) where.set(r, relative(repoRoot, file));
  }
  return where;
}

describe("docs/conditions.md", () => {
  const doc = readFileSync(join(repoRoot, "docs/conditions.md"), "utf8");
  const reasons = allReasons();

  it("finds the reasons in the source in each shape they are written (so the check below means something)", () => {
    for (const r of ["Ready", "Reconciling", "InvalidSpec", "KafkaUnavailable", "TopicOwnedByAnotherStream", "PartitionShrinkRefused", "ReplicationFactorTooHigh",
      "TopicRefused", "Incompatible", "VersionNotRaised", "StreamNotFound", "TableRejected", "SchemaStoreFailed", "KafkaRetrying", "KafkaNotAnswering",
      "ClickHouseRetrying", "KafkaUnreachable", "NoRetries", "WorkerStatusUnavailable", "BacklogAboveTarget", "FixedReplicas", "ScaledUp", "TableShared"]) {
      expect(reasons.has(r), `${r} not found by the extractor`).toBe(true);
    }
  });

  it("explains every reason the operator sets", () => {
    // As a code span, so a reason that is a prefix of another (Ready, StreamNotReady) counts only when written itself.
    const missing = [...reasons].filter(([r]) => !doc.includes(`\`${r}\``)).map(([r, file]) => `${r} (${file})`);
    expect(missing, "reasons set in the source but not explained in docs/conditions.md").toEqual([]);
  });

  it("covers every condition type the operator writes", () => {
    const types = new Set(sources().flatMap((f) => [...readFileSync(f, "utf8").matchAll(/\btype:\s*"([A-Z]\w*)",\s*status:/g)].map((m) => m[1]!)));
    expect(types.size).toBeGreaterThan(5);
    for (const t of types) expect(doc, `condition type ${t}`).toContain(`\`${t}\``);
  });
});
