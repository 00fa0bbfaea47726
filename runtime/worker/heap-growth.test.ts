import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { growHeapWithinPodLimit, heapGrowingPercent, HEAP_GROWING_PERCENT } from "./heap-growth.js";

const moduleUrl = new URL("./heap-growth.ts", import.meta.url).href;

// Records that live long enough to be promoted, then die (a ring of 300k), as a worker's do;
// counts V8's full collections. Allocation-driven, so the count does not depend on timing.
const churn = `
import { PerformanceObserver, constants } from "node:perf_hooks";
const applied = process.env.APPLY ? (await import(${JSON.stringify(moduleUrl)})).growHeapWithinPodLimit() : false;
let majors = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++; }).observe({ entryTypes: ["gc"] });
const ring = new Array(300_000);
for (let i = 0; i < 8_000_000; i++) ring[i % ring.length] = { id: "event-" + i, n: i, tags: [i, i + 1] };
await new Promise((r) => setTimeout(r, 100));
console.log(JSON.stringify({ applied, majors }));
`;

function run(apply: boolean): { applied: boolean; majors: number } {
  const out = execFileSync(process.execPath, ["--max-old-space-size=409", "--import", "tsx", "--input-type=module", "-e", churn], {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env: { ...process.env, SLUICE_MEMORY_LIMIT_BYTES: String(2 ** 30), NODE_OPTIONS: "", ...(apply ? { APPLY: "1" } : {}) },
    encoding: "utf8",
    timeout: 60_000,
  });
  return JSON.parse(out.trim().split("\n").pop()!);
}

describe("growHeapWithinPodLimit", () => {
  it("applies only with a pod memory limit", () => {
    expect(growHeapWithinPodLimit({})).toBe(false);
    expect(growHeapWithinPodLimit({ SLUICE_MEMORY_LIMIT_BYTES: "garbage" })).toBe(false);
  });

  it("takes SLUICE_HEAP_GROWING_PERCENT only as a whole number in 10-1000", () => {
    expect(heapGrowingPercent({})).toBe(HEAP_GROWING_PERCENT);
    expect(heapGrowingPercent({ SLUICE_HEAP_GROWING_PERCENT: "100" })).toBe(100);
    for (const bad of ["", "5", "2000", "1.5", "lots"]) expect(heapGrowingPercent({ SLUICE_HEAP_GROWING_PERCENT: bad })).toBe(HEAP_GROWING_PERCENT);
  });

  it("under a pod's heap cap, runs fewer full collections for the same work", () => {
    const capped = run(false);
    const grown = run(true);
    expect(grown.applied).toBe(true);
    // Measured: 11 without, 7 with (Node 24, 409 MiB cap).
    expect(grown.majors).toBeLessThan(capped.majors);
  }, 120_000);
});
