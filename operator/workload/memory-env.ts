/**
 * The environment that fits a worker process to its pod's memory limit: its V8 heap, its
 * record buffers (runtime/sink/memory-budget.ts) and glibc's malloc arenas. The operator
 * puts it in every worker pod; the benchmarks start their worker processes with it, so the
 * memory they report is the memory of a worker as deployed. Within the heap cap the worker
 * lets V8 grow its heap as an unconstrained process would (runtime/worker/heap-growth.ts).
 */
import { heapMiB, semiSpaceMiB } from "./memory-quantity.js";

export function workerMemoryEnv(limitBytes: number): { name: string; value: string }[] {
  return [
    { name: "NODE_OPTIONS", value: `--max-old-space-size=${heapMiB(limitBytes)} --max-semi-space-size=${semiSpaceMiB(limitBytes)}` },
    { name: "SLUICE_MEMORY_LIMIT_BYTES", value: String(limitBytes) },
    // librdkafka's and libuv's threads each get a glibc malloc arena by default, and their
    // fragmentation adds hundreds of MiB of RSS under a backlog; two arenas are enough.
    { name: "MALLOC_ARENA_MAX", value: "2" },
  ];
}
