/**
 * The Kubernetes objects one worker (a Sink, an Aggregation, or an EventStream's collector)
 * runs as, as a pure function of its owner, its compiled config and the operator config:
 * ConfigMap (compiled JSON), ServiceAccount, Deployment, PodDisruptionBudget, and for the
 * collector a Service. No clock, no randomness: the same
 * inputs give equal objects, and the spec hash on the pod template changes only when
 * what the pods run changes.
 */
import type { OperatorConfig } from "../config.js";
import { ownerReference, selectorLabels, workerLabels, type OwnerRef } from "../owner.js";
import { canonicalJson, specHash } from "../spec-hash.js";
import { workerMemoryEnv } from "./memory-env.js";
import { memoryBytes } from "./memory-quantity.js";
import type { KubeObject } from "../apply.js";

export const SPEC_HASH_ANNOTATION = "sluice.dev/spec-hash";
const CONFIG_MOUNT = "/etc/sluice";
/** The collector reads a stream's API keys from its Secret mounted here (the operator never reads Secrets). */
const KEYS_MOUNT = "/etc/sluice/keys";
export const HTTP_PORT = 8080;
/**
 * The de-facto scrape annotations: a Prometheus that discovers pods without the Prometheus
 * Operator (a `kubernetes-pods` job, the testbed's) finds every worker's /metrics by them.
 * They are on the template, not in the spec hash: adding them rolls pods once, never again.
 */
export const SCRAPE_ANNOTATIONS = { "prometheus.io/scrape": "true", "prometheus.io/port": String(HTTP_PORT), "prometheus.io/path": "/metrics" };
// A sink starting on a backlog peaked above 512Mi (librdkafka's fetch queues, the batch
// being encoded, garbage) and was OOM-killed at every restart; requests stay 256Mi.
export const DEFAULT_MEMORY_LIMIT = "1Gi";

export type WorkerComponent = "sink" | "aggregation" | "collector";

export interface Workload {
  configMap: KubeObject;
  serviceAccount: KubeObject;
  deployment: KubeObject;
  podDisruptionBudget: KubeObject;
  /** The collector's in-cluster endpoint. */
  service?: KubeObject;
  /** The collector's HorizontalPodAutoscaler (readers are scaled by the operator on lag). */
  autoscaler?: KubeObject;
  hash: string;
  selector: Record<string, string>;
}

export interface WorkerInput {
  component: WorkerComponent;
  owner: OwnerRef;
  /** What the worker reads; scaling excluded, so replica changes neither roll pods nor reach them. */
  workerConfig: unknown;
  scaling: { minReplicas: number; replicas?: number };
  /** spec.resources, merged over the defaults (requests cpu per component, memory 256Mi; limit memory 1Gi). */
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
  /** Collector: the Secret holding the stream's API keys (tenant -> key), mounted read-only. */
  keysSecret?: string;
  /**
   * At most one pod at a time, rollouts included: an aggregation whose groups span partitions
   * (held to one worker) would otherwise run two group members while a new pod starts, each
   * writing a partial value under the same key.
   */
  exclusive?: boolean;
}

/**
 * An exclusive worker's rollout removes the old pod before it starts the new one. Not
 * `Recreate`: server-side apply cannot switch an existing Deployment to it (the defaulted
 * rollingUpdate stays, and the API server refuses the pair), while these two fields apply
 * and revert cleanly (checked on the testbed's API server).
 */
const EXCLUSIVE_STRATEGY = { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } };

/**
 * CPU requests: the collector's is what its HorizontalPodAutoscaler measures utilisation
 * against (one collector saturates about one core: bench/README.md), so it asks for half a
 * core; readers are scaled on lag, not CPU.
 */
const CPU_REQUEST: Record<WorkerComponent, string> = { collector: "500m", sink: "100m", aggregation: "100m" };

export type WorkerEnv = Pick<OperatorConfig, "workerImage" | "kafkaBrokers" | "clickhouseUrl">;

export function workloadNames(component: WorkerComponent, name: string) {
  return { worker: `${name}-${component}`, config: `${name}-${component}-config`, key: `${component}.json` };
}

export function desiredWorkload(w: WorkerInput, env: WorkerEnv): Workload {
  const names = workloadNames(w.component, w.owner.name);
  const labels = workerLabels(w.component, w.owner.name);
  const selector = selectorLabels(w.component, w.owner.name);
  const json = canonicalJson(w.workerConfig);
  const hash = specHash({ config: json, image: env.workerImage, ...(w.keysSecret !== undefined && { keysSecret: w.keysSecret }) });
  const meta = (name: string) => ({ name, namespace: w.owner.namespace, labels, ownerReferences: [ownerReference(w.owner)] });
  const service: KubeObject | undefined =
    w.component === "collector"
      ? {
          apiVersion: "v1",
          kind: "Service",
          metadata: meta(names.worker),
          spec: { type: "ClusterIP", selector, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
        }
      : undefined;
  return {
    ...(service && { service }),
    hash,
    selector,
    configMap: { apiVersion: "v1", kind: "ConfigMap", metadata: meta(names.config), data: { [names.key]: json } },
    serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(names.worker), automountServiceAccountToken: false },
    deployment: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta(names.worker),
      spec: {
        replicas: w.scaling.replicas ?? w.scaling.minReplicas,
        ...(w.exclusive && { strategy: EXCLUSIVE_STRATEGY }),
        selector: { matchLabels: selector },
        template: {
          metadata: { labels, annotations: { [SPEC_HASH_ANNOTATION]: hash, ...SCRAPE_ANNOTATIONS } },
          spec: podSpec(w, names, env),
        },
      },
    },
    podDisruptionBudget: {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta(names.worker),
      spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    },
  };
}

function podSpec(w: WorkerInput, names: ReturnType<typeof workloadNames>, env: WorkerEnv) {
  const { component, resources } = w;
  // The collector talks to Kafka only; the others write to ClickHouse too.
  const envVars = [{ name: "KAFKA_BROKERS", value: env.kafkaBrokers.join(",") }, ...(component === "collector" ? [] : [{ name: "CLICKHOUSE_URL", value: env.clickhouseUrl }])];
  const keys = component === "collector" && w.keysSecret !== undefined ? w.keysSecret : undefined;
  const limits = { memory: DEFAULT_MEMORY_LIMIT, ...resources?.limits };
  // The heap fits the pod's memory limit, and the worker sizes its buffers to it (runtime/sink/memory-budget.ts).
  const limitBytes = memoryBytes(limits.memory) ?? memoryBytes(DEFAULT_MEMORY_LIMIT)!;
  envVars.push(...workerMemoryEnv(limitBytes));
  const probe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
  // A worker on a small CPU share (50m in the autoscaling test) takes over 30 s to load and
  // connect, and the liveness probe alone (3 failures 10 s apart) killed it while it started,
  // again at every restart: the startup probe gives it 3 minutes, and liveness counts only
  // after. Liveness then allows a minute of a busy event loop before a restart.
  const startupProbe = { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 36 };
  const livenessProbe = { ...probe("/healthz"), timeoutSeconds: 5, failureThreshold: 6 };
  return {
    serviceAccountName: names.worker,
    automountServiceAccountToken: false,
    // Workers finish the in-flight batch and commit on SIGTERM; give them time to.
    terminationGracePeriodSeconds: 60,
    // fsGroup: the API-key Secret is mounted 0440, readable by the pod's group only; without
    // it the collector (uid 65532) cannot read its keys (found running real pods).
    securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      {
        name: component,
        image: env.workerImage,
        args: ["worker", component, "--config", `${CONFIG_MOUNT}/${names.key}`, ...(keys ? ["--keys", KEYS_MOUNT] : [])],
        env: envVars,
        ports: [{ name: "http", containerPort: HTTP_PORT, protocol: "TCP" }],
        startupProbe,
        livenessProbe,
        readinessProbe: probe("/readyz"),
        resources: { requests: { cpu: CPU_REQUEST[component], memory: "256Mi", ...resources?.requests }, limits },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } },
        volumeMounts: [
          { name: "config", mountPath: CONFIG_MOUNT, readOnly: true },
          ...(keys ? [{ name: "keys", mountPath: KEYS_MOUNT, readOnly: true }] : []),
          { name: "tmp", mountPath: "/tmp" },
        ],
      },
    ],
    volumes: [
      { name: "config", configMap: { name: names.config } },
      ...(keys ? [{ name: "keys", secret: { secretName: keys, defaultMode: 0o440 } }] : []),
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    ],
  };
}
