/**
 * One EventStream read from a cluster (the kubeconfig's; --namespace, else the context's
 * namespace) and compiled as the operator compiles it, so a spec.topic.name or a
 * spec.deadLetter.topic is honoured: what `sluice tail` reads without manifests.
 */
import * as k8s from "@kubernetes/client-node";
import type { EventStreamSpec } from "../api/eventstream.js";
import { validateSpec } from "../operator/validate.js";
import { compileStream } from "../runtime/pipeline/compile.js";
import type { CompiledStream } from "../runtime/pipeline/compiled.js";
import { CliError, usageError } from "./exit-codes.js";
import { contextNamespace, loadKubeConfig } from "./kube-config.js";

export async function clusterStream(name: string, namespaceOption: string | undefined, kubeconfig: string | undefined): Promise<CompiledStream> {
  const kc = loadKubeConfig(kubeconfig);
  const namespace = contextNamespace(kc, namespaceOption);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  let obj: k8s.KubernetesObject & { spec?: unknown };
  try {
    obj = (await custom.getNamespacedCustomObject({ group: "sluice.dev", version: "v1alpha1", namespace, plural: "eventstreams", name })) as typeof obj;
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === 404) throw usageError(`no EventStream "${name}" in namespace ${namespace} of the cluster (${kc.getCurrentContext()})`, "check the name and --namespace (`kubectl get es -A` lists them), or pass -f <manifest dir> or --topic");
    throw new CliError(`cannot read EventStream ${namespace}/${name} at ${kc.getCurrentCluster()?.server}: ${err instanceof Error ? err.message : String(err)}`, "check that the API server in the kubeconfig is reachable, or pass -f <manifest dir> or --topic");
  }
  const v = validateSpec<EventStreamSpec>({ ...obj, kind: "EventStream" });
  if (!v.ok) throw new CliError(`EventStream ${namespace}/${name} is invalid: ${v.message}`, "fix the stream (kubectl describe es shows its conditions), or pass --topic");
  return compileStream({ kind: "EventStream", metadata: { name, namespace }, spec: v.spec });
}
