/**
 * What `sluice top` watches: the streams, the Sinks and Aggregations reading them and
 * their consumer groups (as `sluice lag` measures them), from the manifests (-f, compiled
 * as `sluice run` compiles them) or from a cluster (top-cluster.ts).
 */
import { loadPipeline } from "../runtime/pipeline/load.js";
import { usageError } from "./exit-codes.js";
import { lagTargets, type LagTarget } from "./lag-targets.js";
import type { Replicas, TopPipeline, TopStream } from "./top-snapshot.js";

export interface TopScope {
  namespace: string;
  streams: TopStream[];
  pipelines: TopPipeline[];
  targets: LagTarget[];
  /** Says on the screen where the rows come from. */
  source: string;
  /** Resources left out (invalid, their stream missing): shown under the table. */
  notes: string[];
  /** Cluster only: each refresh's replicas from the resources' status. */
  replicas?: () => Promise<Map<string, Replicas>>;
}

export function manifestScope(filename: string[], namespace: string): TopScope {
  // lagTargets checks the paths and that something consumes there, with its hints.
  const targets = lagTargets(undefined, { filename, namespace });
  const p = loadPipeline(filename, namespace);
  return {
    namespace,
    streams: p.streams.map((s) => ({ name: s.name, topic: s.topic })),
    pipelines: [
      ...p.sinks.map((s) => ({ kind: "Sink" as const, name: s.name, namespace: s.namespace, stream: s.stream.name, topic: s.stream.topic })),
      ...p.aggregations.map((a) => ({ kind: "Aggregation" as const, name: a.name, namespace: a.namespace, stream: a.stream.name, topic: a.stream.topic })),
    ],
    targets,
    notes: [],
    source: `-f ${filename.join(",")}`,
  };
}

export function noScope(): never {
  throw usageError("no pipelines to watch", "pass -f <manifest dir> (what `sluice run -f` was given) and -n <namespace>, or --kubeconfig <file> for a cluster's");
}
