/**
 * The Argo CD health checks in docs/argocd/ run under a real Lua interpreter (Debian's
 * lua5.4, installed by scripts/setup/apt.sh) against sample objects shaped like the
 * operator's status: Argo CD hands the object to the script as the global `obj`, so the
 * harness defines `obj` from a Lua table literal written from the JSON sample.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import yaml from "js-yaml";
import { repoRoot } from "../../testbed/paths.js";

const dir = join(repoRoot, "docs", "argocd");
const kinds = ["EventStream", "Aggregation", "Sink"] as const;
const scriptPath = (kind: string) => join(dir, `health-sluice.dev_${kind}.lua`);

const lua = "lua5.4";
const hasLua = spawnSync(lua, ["-v"]).error === undefined;
// Setup installs lua5.4, so CI always runs these (and fails without it); elsewhere a
// machine without it skips them, loudly.
const skip = !hasLua && !process.env.CI;
if (skip) console.warn(`argocd-health.test.ts: ${lua} not found, the Argo CD health checks are NOT tested (run scripts/setup/apt.sh)`);

/** A JSON value as a Lua expression; null becomes nil, as in Argo CD's conversion. */
function toLua(v: unknown): string {
  if (v === null || v === undefined) return "nil";
  if (typeof v === "string") return luaString(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `{${v.map(toLua).join(", ")}}`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${luaString(k)}] = ${toLua(x)}`).join(", ")}}`;
}

// Decimal escapes for control characters are valid in every Lua since 5.1.
function luaString(s: string): string {
  return `"${s.replace(/[\\"\x00-\x1f]/g, (c) => (c === "\\" || c === '"' ? `\\${c}` : `\\${c.charCodeAt(0)}`))}"`;
}

function health(kind: string, obj: unknown): { status: string; message: string } {
  const harness = `obj = ${toLua(obj)}\nlocal hs = dofile(${luaString(scriptPath(kind))})\nio.write(hs.status, "\\n", hs.message or "")\n`;
  const r = spawnSync(lua, ["-"], { input: harness, encoding: "utf8" });
  if (r.error) throw new Error(`${lua}: ${r.error.message} (scripts/setup/apt.sh installs it)`);
  if (r.status !== 0) throw new Error(`${lua} failed (${r.status}): ${r.stderr}`);
  const [status = "", ...message] = r.stdout.split("\n");
  return { status, message: message.join("\n") };
}

const condition = (status: string, reason: string, message: string, observedGeneration: number) => ({
  type: "Ready",
  status,
  observedGeneration,
  lastTransitionTime: "2026-01-01T00:00:00Z",
  reason,
  message,
});
const object = (kind: string, generation: number, status?: unknown) => ({
  apiVersion: "sluice.dev/v1alpha1",
  kind,
  metadata: { name: "orders", namespace: "shop", generation },
  spec: {},
  ...(status === undefined ? {} : { status }),
});
const sourceReady = { type: "SourceReady", status: "True", observedGeneration: 3, lastTransitionTime: "2026-01-01T00:00:00Z", reason: "StreamResolved", message: "reading shop.orders" };

describe.skipIf(skip).each(kinds)("the Argo CD health check of a %s", (kind) => {
  it("is Healthy when Ready is True at the current generation", () => {
    const h = health(kind, object(kind, 3, { observedGeneration: 3, conditions: [sourceReady, condition("True", "Ready", "everything declared is in place", 3)] }));
    expect(h).toEqual({ status: "Healthy", message: "everything declared is in place" });
  });

  it("is Progressing when there is no status yet", () => {
    expect(health(kind, object(kind, 1)).status).toBe("Progressing");
    expect(health(kind, object(kind, 1, {})).status).toBe("Progressing");
  });

  it("is Progressing when Ready is missing or Unknown", () => {
    expect(health(kind, object(kind, 1, { conditions: [sourceReady] })).status).toBe("Progressing");
    const h = health(kind, object(kind, 1, { conditions: [condition("Unknown", "Reconciling", "TableReady not evaluated yet", 1)] }));
    expect(h).toEqual({ status: "Progressing", message: "Waiting for Ready: TableReady not evaluated yet" });
  });

  it("is Degraded with the reason and message when Ready is False", () => {
    const h = health(kind, object(kind, 2, { observedGeneration: 2, conditions: [condition("False", "ClickHouseUnavailable", 'TableReady: ClickHouse: connect ECONNREFUSED "ch:8123"', 2)] }));
    expect(h).toEqual({ status: "Degraded", message: 'ClickHouseUnavailable: TableReady: ClickHouse: connect ECONNREFUSED "ch:8123"' });
  });

  it("is Degraded when a new generation was refused, though status.observedGeneration stays behind", () => {
    // The operator marks a generation observed only once it is Ready; Ready itself is stamped.
    const h = health(kind, object(kind, 4, { observedGeneration: 3, conditions: [condition("False", "InvalidSpec", "spec.partitions: must be at most 1000", 4)] }));
    expect(h).toEqual({ status: "Degraded", message: "InvalidSpec: spec.partitions: must be at most 1000" });
  });

  it("is Progressing when the operator has not observed the current generation yet", () => {
    const h = health(kind, object(kind, 5, { observedGeneration: 4, conditions: [condition("True", "Ready", "everything declared is in place", 4)] }));
    expect(h.status).toBe("Progressing");
    expect(h.message).toContain("generation 5");
  });

  it("is Progressing, not Degraded, while Ready is False for a reason that resolves on its own", () => {
    for (const reason of ["Reconciling", "Progressing", "StreamNotReady"]) {
      const h = health(kind, object(kind, 1, { conditions: [condition("False", reason, "SourceReady: EventStream orders has no accepted schema yet", 1)] }));
      expect(h, reason).toEqual({ status: "Progressing", message: `${reason}: SourceReady: EventStream orders has no accepted schema yet` });
    }
  });
});

describe("the Argo CD health check snippets", () => {
  it("are one script for the three kinds", () => {
    const [first, ...rest] = kinds.map((k) => readFileSync(scriptPath(k), "utf8"));
    for (const s of rest) expect(s).toBe(first);
  });

  it("are copied verbatim into the argocd-cm patch", () => {
    const patch = yaml.load(readFileSync(join(dir, "argocd-cm-patch.yaml"), "utf8")) as { data: Record<string, string> };
    expect(Object.keys(patch.data).sort()).toEqual(kinds.map((k) => `resource.customizations.health.sluice.dev_${k}`).sort());
    for (const k of kinds) expect(patch.data[`resource.customizations.health.sluice.dev_${k}`], k).toBe(readFileSync(scriptPath(k), "utf8"));
  });
});
