/**
 * What Prometheus' Kubernetes pod discovery and the usual `kubernetes-pods` relabelling do,
 * for a Prometheus built without kubernetes_sd_configs (Debian's): pods annotated
 * `prometheus.io/scrape: "true"` become file_sd targets at podIP:`prometheus.io/port`,
 * path `prometheus.io/path`, with job = the pod's app.kubernetes.io/name (sluice-operator,
 * sluice-collector, sluice-sink, sluice-aggregation: what the alert rules expect).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export const SCRAPE_ANNOTATION = "prometheus.io/scrape";
export const PORT_ANNOTATION = "prometheus.io/port";
export const PATH_ANNOTATION = "prometheus.io/path";

/** The file the testbed's refresher and tests write; Prometheus reads every *.json beside it. */
export const POD_TARGETS_FILE = "pods.json";

/** One target group per scrapable pod; pods not running, without an IP or being deleted are left out. */
export function podTargets(pods: k8s.V1Pod[]): TargetGroup[] {
  const groups: TargetGroup[] = [];
  for (const pod of pods) {
    const meta = pod.metadata ?? {};
    const annotations = meta.annotations ?? {};
    if (annotations[SCRAPE_ANNOTATION] !== "true") continue;
    if (meta.deletionTimestamp !== undefined || pod.status?.phase !== "Running" || !pod.status.podIP) continue;
    const port = annotations[PORT_ANNOTATION] ?? firstContainerPort(pod);
    if (port === undefined || !/^\d+$/.test(port)) continue;
    const labels = meta.labels ?? {};
    groups.push({
      targets: [`${pod.status.podIP}:${port}`],
      labels: {
        __metrics_path__: annotations[PATH_ANNOTATION] ?? "/metrics",
        job: labels["app.kubernetes.io/name"] ?? "kubernetes-pods",
        namespace: meta.namespace ?? "",
        pod: meta.name ?? "",
        ...(labels["app.kubernetes.io/instance"] !== undefined && { app_kubernetes_io_instance: labels["app.kubernetes.io/instance"] }),
        ...(labels["app.kubernetes.io/component"] !== undefined && { app_kubernetes_io_component: labels["app.kubernetes.io/component"] }),
      },
    });
  }
  // Stable order, so an unchanged cluster writes an unchanged file.
  return groups.sort((a, b) => `${a.labels.namespace}/${a.labels.pod}`.localeCompare(`${b.labels.namespace}/${b.labels.pod}`));
}

function firstContainerPort(pod: k8s.V1Pod): string | undefined {
  const port = pod.spec?.containers.flatMap((c) => c.ports ?? [])[0]?.containerPort;
  return port === undefined ? undefined : String(port);
}

/**
 * Lists every pod through the API server and writes the scrapable ones to
 * `dir`/pods.json. The file is replaced by a rename (file_sd must never read half a file)
 * and only when it changed. Returns the groups written.
 */
export async function writePodTargets(kc: k8s.KubeConfig, dir: string): Promise<TargetGroup[]> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const groups = podTargets((await core.listPodForAllNamespaces()).items);
  const file = join(dir, POD_TARGETS_FILE);
  const text = JSON.stringify(groups, null, 2) + "\n";
  if (existsSync(file) && readFileSync(file, "utf8") === text) return groups;
  // A tmp name per writer: the testbed's refresher and a test may both write at once.
  const tmp = join(dir, `.${POD_TARGETS_FILE}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return groups;
}

/** Rewrites the targets every `intervalMs` until stopped; a failed listing keeps the last file. */
export function refreshPodTargets(kc: k8s.KubeConfig, dir: string, intervalMs = 2_000, onError: (err: unknown) => void = () => {}): { stop: () => void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      await writePodTargets(kc, dir);
    } catch (err) {
      onError(err);
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  void tick();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
