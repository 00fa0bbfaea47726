/**
 * A worker in a pod grows its V8 heap the way an unconstrained process does.
 *
 * The operator caps a worker's old generation at 40% of its pod's memory limit
 * (operator/workload/memory-env.ts). V8 also reads that cap as "a small device" and lowers
 * how far the heap may grow after each full collection: at a 409 MiB cap (a 1 GiB pod) the
 * factor is about 1.4 where an unconstrained process gets up to 4. A worker's records live
 * just long enough to be promoted, so the old generation filled again soon after every
 * collection: the sink as deployed ran 14 mark-compacts where the same drain unconstrained
 * ran 4, and read 17.2k rows per CPU-second against 18.9k with the factor set back to 4
 * (alternating drains of 200k records: bench/README.md, "Memory environment").
 *
 * The cap still holds: V8 never grows the old generation past it, and collects as it gets
 * near, so this spends memory the pod already sets aside for the heap, not more.
 * NODE_OPTIONS does not take the flag, so the process sets it on itself at start; V8 reads
 * it at each collection.
 */
import { setFlagsFromString } from "node:v8";

/** The factor 4 (1 + 300/100) that V8 allows a large heap. */
export const HEAP_GROWING_PERCENT = 300;

/**
 * Applied when the process runs with a pod memory limit (the operator's SLUICE_MEMORY_LIMIT_BYTES); true if it was.
 * SLUICE_HEAP_GROWING_PERCENT replaces the percent (heapGrowingPercent), for weighing
 * memory against CPU (`make bench-ab` with BENCH_AB_A_ENV); the operator never sets it.
 */
export function growHeapWithinPodLimit(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!(Number(env.SLUICE_MEMORY_LIMIT_BYTES) > 0)) return false;
  setFlagsFromString(`--heap-growing-percent=${heapGrowingPercent(env)}`);
  return true;
}

/**
 * The percent applied: SLUICE_HEAP_GROWING_PERCENT if a whole number in 10-1000, else 300.
 * Measured at 100 (`make bench-ab`, sink, 3 rounds, 30 Nov): 95 MiB less peak RSS on a 200k
 * backlog (452 vs 550 MiB) for 17% fewer rows per CPU-second; 300 stays the default.
 */
export function heapGrowingPercent(env: NodeJS.ProcessEnv): number {
  const raw = env.SLUICE_HEAP_GROWING_PERCENT?.trim();
  const asked = raw ? Number(raw) : NaN;
  return Number.isInteger(asked) && asked >= 10 && asked <= 1000 ? asked : HEAP_GROWING_PERCENT;
}
