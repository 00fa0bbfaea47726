/**
 * Which consumer groups `sluice lag` measures: the Sinks' and Aggregations' of the
 * manifests (-f, compiled as `sluice run` compiles them, so the group ids are the ones the
 * workers use), optionally one of them by name, or groups named with --group.
 */
import { existsSync } from "node:fs";
import { loadPipeline } from "../runtime/pipeline/load.js";
import { usageError } from "./exit-codes.js";

export interface LagTarget {
  kind: "Sink" | "Aggregation" | "group";
  name: string;
  groupId: string;
  /** The topics it consumes; undefined for a bare --group: those it committed on or is assigned. */
  topics?: string[];
}

export interface LagTargetOptions {
  filename?: string[];
  namespace: string;
  group?: string[];
  topic?: string[];
}

export function lagTargets(resource: string | undefined, o: LagTargetOptions): LagTarget[] {
  if (o.group) {
    if (resource) throw usageError(`name either a resource (${resource}) with -f, or --group, not both`);
    return o.group.map((g) => ({ kind: "group", name: g, groupId: g, topics: o.topic }));
  }
  if (!o.filename) throw usageError("no consumer groups to look at", "pass -f <manifest dir> (its Sinks and Aggregations), or --group <id>");
  const missing = o.filename.filter((p) => !existsSync(p));
  if (missing.length > 0) throw usageError(`${missing.join(", ")}: no such file or directory`);
  const pipeline = loadPipeline(o.filename, o.namespace);
  const all: LagTarget[] = [
    ...pipeline.sinks.map((s) => ({ kind: "Sink" as const, name: s.name, groupId: s.groupId, topics: [s.stream.topic] })),
    ...pipeline.aggregations.map((a) => ({ kind: "Aggregation" as const, name: a.name, groupId: a.groupId, topics: [a.stream.topic] })),
  ];
  if (all.length === 0) throw usageError(`no Sink or Aggregation in ${o.filename.join(", ")}: nothing consumes there`);
  if (resource === undefined) return all;
  const chosen = all.filter((t) => t.name === resource);
  if (chosen.length === 0) throw usageError(`no Sink or Aggregation "${resource}" in ${o.filename.join(", ")}`, `there: ${all.map((t) => t.name).join(", ")}`);
  return chosen;
}
