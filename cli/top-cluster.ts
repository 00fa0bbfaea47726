/**
 * `sluice top` against a cluster: the EventStreams, Sinks and Aggregations of one
 * namespace, read with the kubeconfig, compiled as the operator compiles them (so topics
 * and group ids are the workers'), and on every refresh the replicas from their status:
 * status.replicas running, status.autoscaling.desiredReplicas asked for.
 */
import * as k8s from "@kubernetes/client-node";
import type { AggregationSpec } from "../api/aggregation.js";
import type { EventStreamSpec } from "../api/eventstream.js";
import type { SinkSpec } from "../api/sink.js";
import { validateSpec } from "../operator/validate.js";
import { compileAggregationJob } from "../runtime/aggregation-worker/job.js";
import { compileSink, compileStream } from "../runtime/pipeline/compile.js";
import type { CompiledStream } from "../runtime/pipeline/compiled.js";
import { CliError } from "./exit-codes.js";
export { contextNamespace, loadKubeConfig } from "./kube-config.js"; // top-command.ts imports them from here
import type { TopScope } from "./top-scope.js";
import type { Replicas, TopPipeline } from "./top-snapshot.js";

const GROUP = "sluice.dev";
const VERSION = "v1alpha1";

type Live = k8s.KubernetesObject & { spec?: unknown; status?: { replicas?: number; autoscaling?: { desiredReplicas?: number } } };

export async function clusterScope(kc: k8s.KubeConfig, namespace: string): Promise<TopScope> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const list = async (plural: string): Promise<Live[]> => {
    try {
      return ((await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural })) as { items: Live[] }).items;
    } catch (err) {
      throw new CliError(`cannot list ${plural} in namespace ${namespace} at ${kc.getCurrentCluster()?.server}: ${err instanceof Error ? err.message : String(err)}`, "is the cluster reachable and are the Sluice CRDs installed (`kubectl get crd | grep sluice.dev`)?");
    }
  };
  const [streamObjs, sinkObjs, aggregationObjs] = await Promise.all([list("eventstreams"), list("sinks"), list("aggregations")]);
  const streams: CompiledStream[] = [];
  const skipped: string[] = [];
  const meta = (o: Live) => ({ name: o.metadata!.name!, namespace });
  for (const o of streamObjs) {
    const v = validateSpec<EventStreamSpec>({ ...o, kind: "EventStream" });
    if (v.ok) streams.push(compileStream({ kind: "EventStream", metadata: meta(o), spec: v.spec }));
    else skipped.push(`EventStream ${o.metadata?.name}: ${v.message}`);
  }
  const pipelines: (TopPipeline & { groupId: string })[] = [];
  const add = (kind: "Sink" | "Aggregation", o: Live, compile: () => { groupId: string; stream: CompiledStream }) => {
    try {
      const c = compile();
      pipelines.push({ kind, name: o.metadata!.name!, namespace, stream: c.stream.name, topic: c.stream.topic, groupId: c.groupId });
    } catch (err) {
      skipped.push(`${kind} ${o.metadata?.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const specOf = <S>(kind: string, o: Live): S => {
    const v = validateSpec<S>({ ...o, kind });
    if (!v.ok) throw new Error(v.message);
    return v.spec;
  };
  for (const o of sinkObjs) add("Sink", o, () => compileSink({ kind: "Sink", metadata: meta(o), spec: specOf<SinkSpec>("Sink", o) }, streams, namespace));
  for (const o of aggregationObjs) add("Aggregation", o, () => compileAggregationJob({ kind: "Aggregation", metadata: meta(o), spec: specOf<AggregationSpec>("Aggregation", o) }, streams, namespace));
  if (pipelines.length === 0) {
    throw new CliError(`no Sink or Aggregation to watch in namespace ${namespace}${skipped.length > 0 ? ` (${skipped.join("; ")})` : ""}`, "pass -n <namespace> (`kubectl get sluice -A` lists them), or -f <manifest dir>");
  }
  const used = new Set(pipelines.map((p) => p.stream));
  return {
    namespace,
    streams: streams.filter((s) => used.has(s.name)).map((s) => ({ name: s.name, topic: s.topic })),
    pipelines,
    targets: pipelines.map((p) => ({ kind: p.kind, name: p.name, groupId: p.groupId, topics: [p.topic] })),
    notes: skipped,
    source: `cluster ${kc.getCurrentContext()}`,
    replicas: async () => {
      const [sinks, aggregations] = await Promise.all([list("sinks"), list("aggregations")]);
      const out = new Map<string, Replicas>();
      for (const [kind, objs] of [["Sink", sinks], ["Aggregation", aggregations]] as const) {
        for (const o of objs) out.set(`${kind}/${o.metadata?.name}`, { current: o.status?.replicas ?? null, desired: o.status?.autoscaling?.desiredReplicas ?? null });
      }
      return out;
    },
  };
}
