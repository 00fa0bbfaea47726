import { describe, expect, it } from "vitest";
import { compileSink, compileStream } from "../../runtime/pipeline/compile.js";
import { validateDocument } from "../../api/validate.js";
import type { EventStreamSpec } from "../../api/eventstream.js";
import type { SinkSpec } from "../../api/sink.js";
import { desiredWorkload, HTTP_PORT, SPEC_HASH_ANNOTATION } from "./desired.js";
import { desiredSinkWorkload } from "../sink/desired.js";
import { desiredCollectorWorkload } from "../eventstream/collector-step.js";

const owner = { kind: "Sink", name: "raw", namespace: "shop", uid: "uid-1" };
const config = { workerImage: "sluice:1", kafkaBrokers: ["k:9092"], clickhouseUrl: "http://ch:8123" };

function spec<T>(doc: unknown): T {
  const v = validateDocument(doc);
  if (v.status !== "valid") throw new Error(JSON.stringify(v));
  return (v.value as { spec: T }).spec;
}
const stream = compileStream({
  kind: "EventStream",
  metadata: { name: "views", namespace: "shop" },
  spec: spec<EventStreamSpec>({
    apiVersion: "sluice.dev/v1alpha1", kind: "EventStream", metadata: { name: "views" },
    spec: { schema: { version: 1, fields: [{ name: "id", type: "string" }, { name: "at", type: "timestamp" }] }, keys: { eventId: "id", eventTime: "at" } },
  }),
});
function sink(patch: Record<string, unknown> = {}) {
  const s = spec<SinkSpec>({ apiVersion: "sluice.dev/v1alpha1", kind: "Sink", metadata: { name: "raw" }, spec: { source: { stream: "views" }, clickhouse: { table: "views" }, ...patch } });
  return compileSink({ kind: "Sink", metadata: { name: "raw", namespace: "shop" }, spec: s }, [stream]);
}
const template = (w: ReturnType<typeof desiredSinkWorkload>) => (w.deployment.spec as { template: { metadata: { annotations: Record<string, string> }; spec: any } }).template;

describe("a Sink's desired workload", () => {
  it("is the same, hash included, for the same spec", () => {
    expect(desiredSinkWorkload(owner, sink(), config)).toEqual(desiredSinkWorkload(owner, sink(), config));
    expect(template(desiredSinkWorkload(owner, sink(), config)).metadata.annotations[SPEC_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);
  });

  it("gets a new spec hash when batching changes, so pods roll", () => {
    const a = desiredSinkWorkload(owner, sink(), config).hash;
    const b = desiredSinkWorkload(owner, sink({ batching: { maxRows: 5 } }), config).hash;
    expect(b).not.toBe(a);
  });

  it("keeps the spec hash when only the replica count changes, so scaling does not roll pods", () => {
    const a = desiredSinkWorkload(owner, sink(), config);
    const b = desiredSinkWorkload(owner, sink({ scaling: { minReplicas: 3, maxReplicas: 5 } }), config);
    expect(b.hash).toBe(a.hash);
    expect((b.deployment.spec as { replicas: number }).replicas).toBe(3);
    expect((desiredSinkWorkload(owner, sink({ scaling: { replicas: 7 } }), config).deployment.spec as { replicas: number }).replicas).toBe(7);
  });

  it("takes spec.resources over the defaults, field by field", () => {
    const container = (r?: object) => template(desiredSinkWorkload(owner, sink(), config, r)).spec.containers[0];
    expect(container().resources).toEqual({ requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } });
    expect(container({ requests: { cpu: "50m" }, limits: { cpu: "200m" } }).resources).toEqual({ requests: { cpu: "50m", memory: "256Mi" }, limits: { cpu: "200m", memory: "1Gi" } });
  });

  it("refuses resources that are not Kubernetes quantities, naming the field", () => {
    const r = validateDocument({ apiVersion: "sluice.dev/v1alpha1", kind: "Sink", metadata: { name: "raw" }, spec: { source: { stream: "views" }, clickhouse: { table: "views" }, resources: { limits: { cpu: "two cores" } } } });
    expect(JSON.stringify(r)).toContain("resources.limits.cpu");
    expect(JSON.stringify(r)).toContain("a Kubernetes quantity");
  });

  it("runs restricted: non-root, RuntimeDefault seccomp, no capabilities, read-only root", () => {
    const pod = template(desiredSinkWorkload(owner, sink(), config)).spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    // The keys Secret is mounted 0440: the pod's group must own it for uid 65532 to read it.
    expect(pod.securityContext).toMatchObject({ runAsGroup: 65532, fsGroup: 65532 });
    expect(pod.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(pod.containers[0].livenessProbe.httpGet.path).toBe("/healthz");
    // Starting slowly on a small CPU share is not taken for being dead.
    expect(pod.containers[0].startupProbe).toMatchObject({ httpGet: { path: "/healthz" }, periodSeconds: 5, failureThreshold: 36 });
    expect(pod.containers[0].readinessProbe.httpGet.path).toBe("/readyz");
  });

  it("carries the prometheus.io scrape annotations, pointing at the http port's /metrics", () => {
    const t = template(desiredSinkWorkload(owner, sink(), config));
    expect(t.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/metrics" });
    expect(t.spec.containers[0].ports).toEqual([{ name: "http", containerPort: HTTP_PORT, protocol: "TCP" }]);
  });

  it("labels and owns every object, and carries the compiled config", () => {
    const w = desiredSinkWorkload(owner, sink(), config);
    for (const o of [w.configMap, w.serviceAccount, w.deployment, w.podDisruptionBudget]) {
      expect(o.metadata.ownerReferences).toEqual([{ apiVersion: "sluice.dev/v1alpha1", kind: "Sink", name: "raw", uid: "uid-1", controller: true, blockOwnerDeletion: true }]);
      expect(o.metadata.labels).toMatchObject({ "app.kubernetes.io/instance": "raw", "app.kubernetes.io/managed-by": "sluice-operator", "app.kubernetes.io/part-of": "sluice" });
    }
    expect(JSON.parse((w.configMap.data as Record<string, string>)["sink.json"]!)).toMatchObject({ table: "views", groupId: "sluice.shop.sink.raw" });
    expect(w.podDisruptionBudget.spec).toMatchObject({ maxUnavailable: 1 });
  });
});

describe("an exclusive worker's desired workload", () => {
  it("rolls out by removing the old pod before starting the new one; other workers keep Kubernetes' default", () => {
    const input = { component: "aggregation" as const, owner: { ...owner, kind: "Aggregation" }, workerConfig: {}, scaling: { minReplicas: 1 } };
    const strategy = (exclusive: boolean) => (desiredWorkload({ ...input, exclusive }, config).deployment.spec as { strategy?: unknown }).strategy;
    expect(strategy(true)).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    expect(strategy(false)).toBeUndefined();
  });
});

describe("a stream's desired collector", () => {
  const streamOwner = { kind: "EventStream", name: "views", namespace: "shop", uid: "uid-2" };
  it("is a Deployment behind a ClusterIP Service, without ClickHouse settings", () => {
    const w = desiredCollectorWorkload(streamOwner, stream, config);
    expect(w.service).toMatchObject({ kind: "Service", metadata: { name: "views-collector", namespace: "shop" }, spec: { selector: w.selector, ports: [{ port: 80, targetPort: "http" }] } });
    const pod = template(w).spec;
    expect(pod.containers[0].args).toEqual(["worker", "collector", "--config", "/etc/sluice/collector.json"]);
    expect(pod.containers[0].env).toEqual([
      { name: "KAFKA_BROKERS", value: "k:9092" },
      { name: "NODE_OPTIONS", value: "--max-old-space-size=409 --max-semi-space-size=16" },
      { name: "SLUICE_MEMORY_LIMIT_BYTES", value: String(2 ** 30) },
      { name: "MALLOC_ARENA_MAX", value: "2" },
    ]);
    expect((w.deployment.spec as { replicas: number }).replicas).toBe(2);
  });

  it("is scraped like the readers: prometheus.io annotations on its pods", () => {
    expect(template(desiredCollectorWorkload(streamOwner, stream, config)).metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": String(HTTP_PORT), "prometheus.io/path": "/metrics" });
  });

  it("mounts the stream's API-key Secret when ingest has auth", () => {
    const w = desiredCollectorWorkload(streamOwner, { ...stream, ingest: { ...stream.ingest, authSecret: "views-keys" } }, config);
    const pod = template(w).spec;
    expect(pod.containers[0].args).toContain("--keys");
    expect(pod.volumes).toContainEqual({ name: "keys", secret: { secretName: "views-keys", defaultMode: 0o440 } });
  });

  it("scales on CPU with a HorizontalPodAutoscaler it owns, against a 500m request", () => {
    const w = desiredCollectorWorkload(streamOwner, stream, config);
    expect(w.autoscaler).toMatchObject({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "views-collector", namespace: "shop", ownerReferences: [{ kind: "EventStream", uid: "uid-2", controller: true }] },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "views-collector" },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
      },
    });
    expect(template(w).spec.containers[0].resources.requests.cpu).toBe("500m");
  });

  it("keeps the replicas the HPA chose, moved into the bounds; starts new ones at the minimum; rolls no pod for a scaling change", () => {
    const scaling = { minReplicas: 3, maxReplicas: 6, targetCPUUtilization: 50 };
    const replicas = (current?: number) => (desiredCollectorWorkload(streamOwner, stream, config, scaling, current).deployment.spec as { replicas: number }).replicas;
    expect([replicas(undefined), replicas(0), replicas(2), replicas(5), replicas(9)]).toEqual([3, 3, 3, 5, 6]);
    expect(desiredCollectorWorkload(streamOwner, stream, config, scaling, 5).hash).toBe(desiredCollectorWorkload(streamOwner, stream, config).hash);
  });

  it("does not roll when only the topic's size or retention changes", () => {
    const a = desiredCollectorWorkload(streamOwner, stream, config).hash;
    expect(desiredCollectorWorkload(streamOwner, { ...stream, partitions: 48, retentionMs: 1 }, config).hash).toBe(a);
    expect(desiredCollectorWorkload(streamOwner, { ...stream, ingest: { ...stream.ingest, maxEventsPerRequest: 5 } }, config).hash).not.toBe(a);
  });
});
