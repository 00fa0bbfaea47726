/**
 * How much fetched data one sink worker may hold, buffered or being written, across all
 * its partitions. batching.maxRows/maxBytes bound one partition; a worker owning twelve
 * partitions of a backlog (after an outage, a new sink, a replay) would otherwise hold
 * twelve times that and be OOM-killed by its pod's memory limit, again at every restart.
 *
 * A record costs its key and value bytes plus a fixed overhead for the objects around it
 * (the fetched message, its headers, the decoded row and the encoded one while it is
 * written), so that many small records count as well as few large ones.
 */
import { getHeapStatistics } from "node:v8";

export const RECORD_OVERHEAD_BYTES = 1024;

const MiB = 1 << 20;

/**
 * A twelfth of the memory the process may use: the pod's memory limit (the operator passes
 * it as SLUICE_MEMORY_LIMIT_BYTES through the Downward API, since a container's Node does
 * not size itself to its cgroup), else its cgroup limit when Node sees one, else the V8
 * heap limit; at least 16 MiB, at most 256 MiB. A held record costs several times its
 * bytes in objects (fetched, decoded, encoded), and the rest of the memory is for the
 * Kafka client, the runtime and garbage not yet collected.
 */
export function defaultMemoryBudget(env: NodeJS.ProcessEnv = process.env): number {
  const fromPod = Number(env.SLUICE_MEMORY_LIMIT_BYTES);
  const constrained = process.constrainedMemory();
  const limit = fromPod > 0 ? fromPod : constrained > 0 && constrained < 2 ** 50 ? constrained : getHeapStatistics().heap_size_limit;
  return Math.min(256 * MiB, Math.max(16 * MiB, Math.floor(limit / 12)));
}
