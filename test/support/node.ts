/**
 * Working with the testbed's real node: is there one, helm, and pods that really run.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import yaml from "js-yaml";
import { binDir, repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { testbedEnv } from "./testbed-env.js";

/** The testbed runs a node unless it was started with SLUICE_TESTBED_NODE=0 (the fast mode). */
export const hasNode = process.env.SLUICE_TESTBED_NODE === "1";

export function nodeEnv(): { helmValues: string; image: string; kafka: string[]; clickhouseUrl: string } {
  const need = (name: string) => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: the testbed has no node`);
    return v;
  };
  return {
    helmValues: need("SLUICE_HELM_VALUES"),
    image: need("SLUICE_IMAGE"),
    kafka: need("SLUICE_NODE_KAFKA_BROKERS").split(","),
    clickhouseUrl: need("SLUICE_NODE_CLICKHOUSE_URL"),
  };
}

/** Runs the project's helm against the testbed; throws with its output on failure. */
export function helm(args: string[]): string {
  const res = spawnSync(join(binDir, "helm"), args, { encoding: "utf8", env: { ...process.env, KUBECONFIG: testbedEnv().kubeconfig }, timeout: 180_000 });
  if (res.status !== 0) throw new Error(`helm ${args.join(" ")} failed (${res.status}):\n${res.stdout}${res.stderr}`);
  return res.stdout;
}

export const isReady = (p: k8s.V1Pod) =>
  p.metadata?.deletionTimestamp === undefined && p.status?.phase === "Running" && (p.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

export async function pods(core: k8s.CoreV1Api, namespace: string, selector: string): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
}

/** Waits until exactly `n` pods match and all are Ready; the error shows what they are doing. */
export async function waitForReadyPods(core: k8s.CoreV1Api, namespace: string, selector: string, n: number, timeoutMs = 180_000): Promise<k8s.V1Pod[]> {
  let last: k8s.V1Pod[] = [];
  try {
    return await waitFor(`${n} Ready pod(s) ${selector} in ${namespace}`, async () => {
      last = await pods(core, namespace, selector);
      return last.length === n && last.every(isReady) ? last : undefined;
    }, { timeoutMs, intervalMs: 500 });
  } catch (err) {
    throw new Error(`${(err as Error).message}\npods now: ${describePods(last)}`);
  }
}

export function describePods(list: k8s.V1Pod[]): string {
  if (list.length === 0) return "(none)";
  return list
    .map((p) => {
      const cs = p.status?.containerStatuses?.[0];
      const waiting = cs?.state?.waiting ? ` waiting: ${cs.state.waiting.reason} ${cs.state.waiting.message ?? ""}` : "";
      const terminated = cs?.lastState?.terminated ? ` last exit: ${cs.lastState.terminated.exitCode} ${cs.lastState.terminated.reason ?? ""}` : "";
      return `${p.metadata?.name} ${p.status?.phase} ready=${isReady(p)} restarts=${cs?.restartCount ?? 0}${waiting}${terminated}`;
    })
    .join("; ");
}

/**
 * The clickstream example as objects, made fit for the one-broker testbed (replication 1)
 * and given tables of its own, so runs never share data. Nothing else changes.
 */
export function clickstreamExample(database: string): { objects: Record<string, any>[]; tenants: Record<string, string> } {
  const dir = join(repoRoot, "examples", "clickstream");
  const objects = ["secret.yaml", "stream.yaml", "sink.yaml", "aggregation.yaml"].flatMap((f) => yaml.loadAll(readFileSync(join(dir, f), "utf8")) as Record<string, any>[]);
  let tenants: Record<string, string> = {};
  for (const o of objects) {
    if (o.kind === "Secret") tenants = o.stringData as Record<string, string>;
    if (o.kind === "EventStream") Object.assign(o.spec.topic, { replicationFactor: 1, minInSyncReplicas: 1 });
    if (o.kind === "Sink") o.spec.clickhouse.database = database;
    if (o.kind === "Aggregation") o.spec.output.clickhouse.database = database;
  }
  return { objects, tenants };
}

/**
 * Removes what a test installed on the node: the pipeline's namespace while its operator
 * still runs (it releases the finalizers), then the release (it owns a cluster-wide
 * ClusterRole that deleting its namespace would leave behind), then the release's namespace.
 * Never throws: it runs in afterAll, also after a run that failed early.
 */
export async function removeReleaseAndPipeline(core: k8s.CoreV1Api, o: { pipelineNamespace: string; release: string; releaseNamespace: string }): Promise<void> {
  const ns = o.pipelineNamespace;
  await core.deleteNamespace({ name: ns }).catch(() => {});
  await waitFor(`namespace ${ns} gone`, async () => (await core.readNamespace({ name: ns }).then(() => false, () => true)) || undefined, { timeoutMs: 120_000, intervalMs: 1_000 }).catch(() => {});
  try {
    helm(["uninstall", o.release, "-n", o.releaseNamespace, "--wait", "--timeout", "2m"]);
  } catch {
    // Never installed.
  }
  await core.deleteNamespace({ name: o.releaseNamespace }).catch(() => {});
}
