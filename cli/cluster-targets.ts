/**
 * The consumer groups of the Sinks and Aggregations in a cluster namespace, for the
 * day-two commands run without manifests: the kubeconfig's current context
 * (kube-config.ts), its namespace unless -n names one. Group ids are the operator's
 * (sluice.<namespace>.sink|aggregation.<name>); topics come from each stream's status
 * (what the operator made), else its spec, else <namespace>.<stream>.
 */
import * as k8s from "@kubernetes/client-node";
import { CliError, usageError } from "./exit-codes.js";
import { contextNamespace, loadKubeConfig } from "./kube-config.js";
import type { LagTarget } from "./lag-targets.js";

type Obj = { metadata?: { name?: string }; spec?: Record<string, any>; status?: Record<string, any> };

export async function clusterTargets(resource: string | undefined, namespaceOption: string | undefined, kubeconfig?: string): Promise<LagTarget[]> {
  const kc = loadKubeConfig(kubeconfig);
  const namespace = contextNamespace(kc, namespaceOption);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const list = async (plural: string): Promise<Obj[]> => {
    try {
      return ((await custom.listNamespacedCustomObject({ group: "sluice.dev", version: "v1alpha1", namespace, plural })) as { items: Obj[] }).items;
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 404) throw new CliError(`the cluster has no ${plural}.sluice.dev`, "install Sluice's CRDs (helm install sluice charts/sluice, or sluice crds | kubectl apply -f -)");
      if (code === 401 || code === 403) throw new CliError(`not allowed to list ${plural}.sluice.dev in namespace ${namespace} (HTTP ${code})`, "use a kubeconfig whose user may get and list Sluice resources there");
      throw new CliError(`cannot list ${plural}.sluice.dev in namespace ${namespace} at ${kc.getCurrentCluster()?.server}: ${(err as Error).message}`, "check that the API server in the kubeconfig is reachable");
    }
  };
  const [streams, sinks, aggregations] = await Promise.all([list("eventstreams"), list("sinks"), list("aggregations")]);
  const topicOf = (stream: unknown): string[] | undefined => {
    if (typeof stream !== "string") return undefined; // a Sink of an Aggregation's output: the topics it committed on
    const s = streams.find((x) => x.metadata?.name === stream);
    return [s?.status?.topic ?? s?.spec?.topic?.name ?? `${namespace}.${stream}`];
  };
  const all: LagTarget[] = [
    ...sinks.map((s) => ({ kind: "Sink" as const, name: s.metadata!.name!, groupId: `sluice.${namespace}.sink.${s.metadata!.name}`, topics: topicOf(s.spec?.source?.stream) })),
    ...aggregations.map((a) => ({ kind: "Aggregation" as const, name: a.metadata!.name!, groupId: `sluice.${namespace}.aggregation.${a.metadata!.name}`, topics: topicOf(a.spec?.source?.stream) })),
  ];
  if (all.length === 0) throw usageError(`no Sink or Aggregation in namespace ${namespace} of the cluster`, "name another namespace with -n, or pass -f <manifest dir>");
  if (resource === undefined) return all;
  const chosen = all.filter((t) => t.name === resource);
  if (chosen.length === 0) throw usageError(`no Sink or Aggregation "${resource}" in namespace ${namespace}`, `there: ${all.map((t) => t.name).join(", ")}`);
  return chosen;
}
