import { execFileSync } from "node:child_process";
import * as k8s from "@kubernetes/client-node";
import { kubectlPath, testbedEnv } from "./testbed-env.js";

export function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(testbedEnv().kubeconfig);
  return kc;
}

/** Runs the project's kubectl against the testbed; throws with stderr on failure. */
export function kubectl(args: string[], input?: string): string {
  return execFileSync(kubectlPath, args, { encoding: "utf8", input, env: { ...process.env, KUBECONFIG: testbedEnv().kubeconfig }, stdio: ["pipe", "pipe", "pipe"] });
}

/** The API server's error text from a client-node ApiException (its JSON body's message). */
export function apiErrorMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === "string") {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Records every replica count given to the namespace's Deployments while it runs. With a
 * controller-manager, a Deployment whose owner is deleted is garbage-collected, so a
 * scale-down before that is seen on a watch, not read afterwards.
 */
export async function watchReplicas(kc: k8s.KubeConfig, namespace: string): Promise<{ seen: Map<string, number[]>; stop: () => void }> {
  const seen = new Map<string, number[]>();
  const req = await new k8s.Watch(kc).watch(`/apis/apps/v1/namespaces/${namespace}/deployments`, {}, (_type: string, d: k8s.V1Deployment) => {
    const name = d.metadata?.name ?? "";
    seen.set(name, [...(seen.get(name) ?? []), d.spec?.replicas ?? -1]);
  }, () => {});
  return { seen, stop: () => req.abort() };
}
