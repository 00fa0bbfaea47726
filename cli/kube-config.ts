/**
 * The kubeconfig the day-two commands read a cluster with: --kubeconfig, else $KUBECONFIG
 * or ~/.kube/config (client-node's default order), and the namespace to look in. A missing
 * or clusterless kubeconfig is a usage error (exit 2): the command line has to change.
 */
import * as k8s from "@kubernetes/client-node";
import { usageError } from "./exit-codes.js";

export function loadKubeConfig(file: string | undefined): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (err) {
    throw usageError(`cannot read the kubeconfig${file ? ` ${file}` : ""}: ${err instanceof Error ? err.message : String(err)}`, "pass --kubeconfig <file> or set KUBECONFIG, or -f <manifest dir> to work without a cluster");
  }
  if (!kc.getCurrentCluster()) throw usageError("the kubeconfig names no current cluster", "pass --kubeconfig <file> or set KUBECONFIG, or -f <manifest dir> to work without a cluster");
  return kc;
}

/** -n when given, else the kubeconfig context's namespace, else default (kubectl's rule). */
export function contextNamespace(kc: k8s.KubeConfig, namespace?: string): string {
  return namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
}
