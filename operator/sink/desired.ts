/**
 * The Kubernetes objects one Sink runs as, as a pure function of the Sink, its compiled
 * config and the operator config: ConfigMap (compiled JSON), ServiceAccount, Deployment,
 * PodDisruptionBudget. No clock, no randomness: the same inputs give byte-equal objects.
 */
import type { CompiledSink } from "../../runtime/pipeline/compiled.js";
import type { OperatorConfig } from "../config.js";
import { ownerReference, selectorLabels, workerLabels, type OwnerRef } from "../owner.js";
import { canonicalJson, specHash } from "../spec-hash.js";
import type { KubeObject } from "../apply.js";

export const SPEC_HASH_ANNOTATION = "sluice.dev/spec-hash";
const CONFIG_MOUNT = "/etc/sluice";
const CONFIG_KEY = "sink.json";
const HTTP_PORT = 8080;

export interface SinkWorkload {
  configMap: KubeObject;
  serviceAccount: KubeObject;
  deployment: KubeObject;
  podDisruptionBudget: KubeObject;
  hash: string;
  selector: Record<string, string>;
}

/** What the worker reads. Scaling is the operator's business, so it neither rolls pods nor reaches them. */
export function workerConfig(sink: CompiledSink): Omit<CompiledSink, "scaling"> {
  const { scaling: _scaling, ...rest } = sink;
  return rest;
}

export function sinkWorkloadNames(name: string) {
  return { worker: `${name}-sink`, config: `${name}-sink-config` };
}

export function desiredSinkWorkload(owner: OwnerRef, sink: CompiledSink, config: Pick<OperatorConfig, "workerImage" | "kafkaBrokers" | "clickhouseUrl">): SinkWorkload {
  const names = sinkWorkloadNames(owner.name);
  const labels = workerLabels("sink", owner.name);
  const selector = selectorLabels("sink", owner.name);
  const json = canonicalJson(workerConfig(sink));
  const hash = specHash({ config: json, image: config.workerImage });
  const meta = (name: string) => ({ name, namespace: owner.namespace, labels, ownerReferences: [ownerReference(owner)] });
  return {
    hash,
    selector,
    configMap: { apiVersion: "v1", kind: "ConfigMap", metadata: meta(names.config), data: { [CONFIG_KEY]: json } },
    serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(names.worker), automountServiceAccountToken: false },
    deployment: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta(names.worker),
      spec: {
        replicas: sink.scaling.replicas ?? sink.scaling.minReplicas,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels, annotations: { [SPEC_HASH_ANNOTATION]: hash } },
          spec: podSpec(names, config),
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

function podSpec(names: { worker: string; config: string }, config: Pick<OperatorConfig, "workerImage" | "kafkaBrokers" | "clickhouseUrl">) {
  const probe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
  return {
    serviceAccountName: names.worker,
    automountServiceAccountToken: false,
    // Workers finish the in-flight batch and commit on SIGTERM; give them time to.
    terminationGracePeriodSeconds: 60,
    securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      {
        name: "sink",
        image: config.workerImage,
        args: ["worker", "sink", "--config", `${CONFIG_MOUNT}/${CONFIG_KEY}`],
        env: [
          { name: "KAFKA_BROKERS", value: config.kafkaBrokers.join(",") },
          { name: "CLICKHOUSE_URL", value: config.clickhouseUrl },
        ],
        ports: [{ name: "http", containerPort: HTTP_PORT, protocol: "TCP" }],
        livenessProbe: probe("/healthz"),
        readinessProbe: probe("/readyz"),
        resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } },
        volumeMounts: [{ name: "config", mountPath: CONFIG_MOUNT, readOnly: true }, { name: "tmp", mountPath: "/tmp" }],
      },
    ],
    volumes: [
      { name: "config", configMap: { name: names.config } },
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    ],
  };
}
