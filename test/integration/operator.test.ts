/**
 * The operator in-process against the real testbed: kube-apiserver (no controller-manager,
 * so Deployments get no pods and we assert on objects), Kafka (one broker) and ClickHouse.
 * Everything lives in a random namespace; topic names default to <namespace>.<stream>.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import yaml from "js-yaml";
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { KINDS } from "../../api/kinds.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import type { KafkaAdmin } from "../../runtime/kafka/port.js";
import { silentLogger } from "../../runtime/log.js";
import { existingColumns } from "../../runtime/clickhouse/ensure-sink-table.js";
import { compileConfig } from "../../operator/config.js";
import { startOperator, type RunningOperator } from "../../operator/main.js";
import { SPEC_HASH_ANNOTATION } from "../../operator/workload/desired.js";
import { LeaderElector } from "../../operator/leader.js";
import { systemClock } from "../../operator/clock.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { kubeConfig, kubectl, watchReplicas } from "../support/kube.js";
import { Registry } from "prom-client";
import { testbedEnv } from "../support/testbed-env.js";
import { testNamespace, type Doc, type Live } from "../support/operator-namespace.js";
import { createTopicsAndWait } from "../../runtime/kafka/ensure-topic.js";

const env = testbedEnv();
const GROUP = "sluice.dev";
const VERSION = "v1alpha1";

const example = (file: string) => yaml.load(readFileSync(join(repoRoot, "examples", "clickstream", file), "utf8")) as Doc;
const condition = (o: Live | undefined, type: string) => (o?.status?.conditions as { type: string; status: string; reason: string; message: string; observedGeneration?: number }[] | undefined)?.find((c) => c.type === type);

describe("the operator on the real testbed", () => {
  const kc = kubeConfig();
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const policy = kc.makeApiClient(k8s.PolicyV1Api);
  const ns = testNamespace("op");
  const { namespace, database } = ns;
  const topic = `${namespace}.page-views`;
  let operator: RunningOperator;
  let admin: KafkaAdmin;
  let clickhouse: ClickHouseClient;
  const registry = new Registry();
  const reconciles = async (kind: string) =>
    (await registry.getSingleMetric("sluice_operator_reconcile_total")!.get()).values.filter((v) => v.labels.kind === kind).reduce((n, v) => n + v.value, 0);

  const get = ns.get;
  const patchSpec = (plural: string, name: string, spec: unknown) =>
    custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural, name, body: { spec } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    ) as Promise<Live>;
  const apply = (doc: Doc) => ns.apply(doc);
  /** Waits until the operator has reconciled the object's current generation and `check` holds. */
  const settled = (plural: string, name: string, check: (o: Live) => boolean = () => true) =>
    waitFor(`${plural}/${name} to settle`, async () => {
      const o = await get(plural, name);
      const ready = condition(o, "Ready");
      return o && ready && ready.status !== "Unknown" && check(o) ? o : undefined;
    }, { timeoutMs: 45_000 });
  const partitions = async (name: string) => (await admin.fetchTopicMetadata({ topics: [name] })).topics[0]!.partitions.length;

  function stream(): Doc {
    const s = example("stream.yaml");
    // One broker on the testbed: declare what it can hold (the operator never clamps).
    s.spec.topic = { ...s.spec.topic, partitions: 3, replicationFactor: 1, minInSyncReplicas: 1 };
    delete s.spec.deadLetter; // the example's fixed DLQ name would collide across runs
    return s;
  }
  function sink(): Doc {
    const s = example("sink.yaml");
    s.spec.clickhouse.database = database;
    return s;
  }

  beforeAll(async () => {
    await ns.create();
    await waitFor("the sluice kinds to be served", async () => {
      for (const k of KINDS) await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: k.plural });
      return true;
    });
    admin = kafkaClient(env.kafkaBrokers, "operator-test").admin();
    await admin.connect();
    clickhouse = createClient({ url: env.clickhouseUrl });
    const config = compileConfig({ kafka: env.kafkaBrokers.join(","), clickhouse: env.clickhouseUrl, namespace: [namespace], resync: "30s", workers: 2, backoffBase: "200ms", backoffMax: "5s", workerImage: "sluice:test", leaderElectionNamespace: namespace, autoscaleInterval: "500ms", autoscaleSettleTimeout: "1s", autoscaleLookback: "5s" });
    operator = await startOperator({ kc, config, log: silentLogger, registry });
  });

  afterAll(async () => {
    await operator?.stop();
    await admin?.disconnect();
    await clickhouse?.close();
    await ns.cleanUp();
  });

  it("turns the clickstream example into a topic, a DLQ, a table and a worker, and reports Ready", async () => {
    apply(stream());
    apply(sink());
    const s = await settled("eventstreams", "page-views", (o) => o.status?.observedGeneration === o.metadata.generation);
    expect(condition(s, "Ready")).toMatchObject({ status: "True" });
    expect(s.status).toMatchObject({ topic, partitions: 3, schemaVersion: 1 });
    expect(await partitions(topic)).toBe(3);
    expect(await partitions(`${topic}.dlq`)).toBe(3);
    expect(await admin.describeTopicConfigs(topic, ["retention.ms", "min.insync.replicas", "compression.type"])).toEqual({ "retention.ms": String(7 * 86_400_000), "min.insync.replicas": "1", "compression.type": "lz4" });
    const schemaCm = await core.readNamespacedConfigMap({ namespace, name: "page-views-schema-v1" });
    expect(schemaCm.immutable).toBe(true);
    expect(schemaCm.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "EventStream", uid: s.metadata.uid });

    const k = await settled("sinks", "page-views-raw", (o) => o.status?.observedGeneration === o.metadata.generation);
    expect(condition(k, "Ready")).toMatchObject({ status: "True" });
    expect(k.status.selector).toBe("app.kubernetes.io/name=sluice-sink,app.kubernetes.io/instance=page-views-raw");
    expect([...(await existingColumns(clickhouse, { database, table: "page_views" }))]).toEqual(expect.arrayContaining(["event_id", "user_id", "url", "duration_ms"]));
    const owned = { kind: "Sink", name: "page-views-raw", uid: k.metadata.uid, controller: true };
    const deployment = await apps.readNamespacedDeployment({ namespace, name: "page-views-raw-sink" });
    expect(deployment.metadata?.ownerReferences?.[0]).toMatchObject(owned);
    expect(deployment.spec?.replicas).toBe(1);
    expect(deployment.spec?.template.metadata?.annotations?.[SPEC_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);
    expect(deployment.metadata?.managedFields?.map((m) => m.manager)).toContain("sluice-operator");
    expect((await core.readNamespacedConfigMap({ namespace, name: "page-views-raw-sink-config" })).metadata?.ownerReferences?.[0]).toMatchObject(owned);
    expect((await core.readNamespacedServiceAccount({ namespace, name: "page-views-raw-sink" })).metadata?.ownerReferences?.[0]).toMatchObject(owned);
    const pdb = await policy.readNamespacedPodDisruptionBudget({ namespace, name: "page-views-raw-sink" });
    expect(pdb.spec?.maxUnavailable).toBe(1);
    expect(pdb.metadata?.ownerReferences?.[0]).toMatchObject(owned);
  });

  it("gives the stream its own collector: Deployment mounting the API-key Secret, Service, PDB, and its URL in status", async () => {
    const s = await settled("eventstreams", "page-views", (o) => o.status?.observedGeneration === o.metadata.generation);
    expect(condition(s, "WorkloadReady")).toMatchObject({ status: "True" });
    expect(s.status.ingestUrl).toBe(`http://page-views-collector.${namespace}.svc/v1/streams/page-views/events`);
    const owned = { kind: "EventStream", name: "page-views", uid: s.metadata.uid, controller: true };
    const deployment = await apps.readNamespacedDeployment({ namespace, name: "page-views-collector" });
    expect(deployment.metadata?.ownerReferences?.[0]).toMatchObject(owned);
    expect(deployment.spec?.replicas).toBe(2);
    const pod = deployment.spec!.template.spec!;
    expect(pod.containers[0]!.args).toEqual(["worker", "collector", "--config", "/etc/sluice/collector.json", "--keys", "/etc/sluice/keys"]);
    expect(pod.volumes?.find((v) => v.name === "keys")?.secret?.secretName).toBe("page-views-keys");
    // No ClickHouse for a collector; a heap and buffers sized to the pod's memory limit.
    expect(pod.containers[0]!.env?.map((e) => e.name)).toEqual(["KAFKA_BROKERS", "NODE_OPTIONS", "SLUICE_MEMORY_LIMIT_BYTES", "MALLOC_ARENA_MAX"]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    const service = await core.readNamespacedService({ namespace, name: "page-views-collector" });
    expect(service.spec?.ports?.[0]).toMatchObject({ port: 80, targetPort: "http" });
    expect(service.spec?.selector).toEqual(deployment.spec?.selector?.matchLabels);
    expect(service.metadata?.ownerReferences?.[0]).toMatchObject(owned);
    expect((await policy.readNamespacedPodDisruptionBudget({ namespace, name: "page-views-collector" })).metadata?.ownerReferences?.[0]).toMatchObject(owned);
    const config = JSON.parse((await core.readNamespacedConfigMap({ namespace, name: "page-views-collector-config" })).data!["collector.json"]!);
    expect(config).toMatchObject({ name: "page-views", topic, schema: { version: 1 } });
  });

  it("rolls only the collector when ingest limits change; disabling ingest stops it and drops the URL, enabling brings it back", async () => {
    const hash = async (name: string) => (await apps.readNamespacedDeployment({ namespace, name })).spec?.template.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
    const [collectorBefore, sinkBefore] = [await hash("page-views-collector"), await hash("page-views-raw-sink")];
    const ingest = (over: Record<string, unknown>) => patchSpec("eventstreams", "page-views", { ingest: over });
    const observed = (o: Live) => o.status?.observedGeneration === o.metadata.generation;

    await ingest({ rateLimit: { perTenantEventsPerSecond: 100 } });
    await settled("eventstreams", "page-views", observed);
    await waitFor("the collector to roll", async () => ((await hash("page-views-collector")) !== collectorBefore ? true : undefined));
    await settled("sinks", "page-views-raw", observed);
    expect(await hash("page-views-raw-sink")).toBe(sinkBefore);

    await ingest({ enabled: false });
    const off = await settled("eventstreams", "page-views", observed);
    expect(condition(off, "WorkloadReady")).toMatchObject({ status: "True", reason: "IngestDisabled" });
    expect(off.status.ingestUrl).toBeUndefined();
    expect((await apps.readNamespacedDeployment({ namespace, name: "page-views-collector" })).spec?.replicas).toBe(0);
    expect(await hash("page-views-raw-sink")).toBe(sinkBefore);

    await ingest({ enabled: true, rateLimit: { perTenantEventsPerSecond: 5000 } });
    const on = await settled("eventstreams", "page-views", (o) => observed(o) && o.status?.ingestUrl !== undefined);
    expect(condition(on, "Ready")).toMatchObject({ status: "True" });
    expect((await apps.readNamespacedDeployment({ namespace, name: "page-views-collector" })).spec?.replicas).toBe(2);
    expect(await hash("page-views-collector")).toBe(collectorBefore);
  });

  it("sizes the collector with a HorizontalPodAutoscaler on CPU, and keeps the count the HPA chose, within new bounds, rolling nothing", async () => {
    const autoscaling = kc.makeApiClient(k8s.AutoscalingV2Api);
    const s = await settled("eventstreams", "page-views", (o) => o.status?.observedGeneration === o.metadata.generation);
    const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name: "page-views-collector" });
    expect(hpa.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "EventStream", uid: s.metadata.uid, controller: true });
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "page-views-collector" },
      minReplicas: 2,
      maxReplicas: 20, // the example's bounds
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
    });
    const deployment = async () => (await apps.readNamespacedDeployment({ namespace, name: "page-views-collector" })).spec!;
    const hash = (await deployment()).template.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
    // What the HPA controller would do under load (no controller-manager here): 5 replicas.
    await apps.patchNamespacedDeployment({ namespace, name: "page-views-collector", body: { spec: { replicas: 5 } }, fieldManager: "hpa-stand-in" }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));

    await patchSpec("eventstreams", "page-views", { ingest: { scaling: { minReplicas: 3, maxReplicas: 4, targetCPUUtilization: 50 } } });
    await settled("eventstreams", "page-views", (o) => o.status?.observedGeneration === o.metadata.generation);
    expect((await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name: "page-views-collector" })).spec).toMatchObject({ minReplicas: 3, maxReplicas: 4 });
    expect((await deployment()).replicas).toBe(4); // 5, moved into the new bounds

    await patchSpec("eventstreams", "page-views", { ingest: { scaling: { minReplicas: 2, maxReplicas: 10, targetCPUUtilization: 70 } } });
    await settled("eventstreams", "page-views", (o) => o.status?.observedGeneration === o.metadata.generation);
    expect((await deployment()).replicas).toBe(4); // kept: the HPA's to change, not reset to the minimum
    expect((await deployment()).template.metadata?.annotations?.[SPEC_HASH_ANNOTATION]).toBe(hash);
  });

  it("reports the sink's lag from Kafka, and holds its replicas while no worker consumes (no rate to size from)", async () => {
    const producer = kafkaClient(env.kafkaBrokers, "operator-test-producer").producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 25 }, (_, i) => ({ key: `u${i}`, value: JSON.stringify({ event_id: `e${i}` }) })) });
    await producer.disconnect();
    const k = await waitFor("lagMessages 25", async () => {
      const o = await get("sinks", "page-views-raw");
      return o?.status?.lagMessages === 25 ? o : undefined;
    }, { timeoutMs: 30_000 });
    expect(k.status.lagSeconds).toBeUndefined();
    expect((await apps.readNamespacedDeployment({ namespace, name: "page-views-raw-sink" })).spec?.replicas).toBe(1);
  });

  it("runs the clickstream Aggregation: aggregate and late tables, and a worker Deployment it owns", async () => {
    const agg = example("aggregation.yaml");
    agg.spec.output.clickhouse.database = database;
    apply(agg);
    const a = await settled("aggregations", "active-users-per-minute", (o) => o.status?.observedGeneration === o.metadata.generation);
    expect(condition(a, "Ready")).toMatchObject({ status: "True" });
    const rs = await clickhouse.query({ query: `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`, format: "JSONEachRow" });
    expect(((await rs.json()) as { name: string }[]).map((r) => r.name)).toEqual(expect.arrayContaining(["active_users_per_minute", "active_users_per_minute_late"]));
    const deployment = await apps.readNamespacedDeployment({ namespace, name: "active-users-per-minute-aggregation" });
    expect(deployment.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "Aggregation", uid: a.metadata.uid });
    expect(deployment.spec?.template.spec?.containers[0]?.args).toEqual(["worker", "aggregation", "--config", "/etc/sluice/aggregation.json"]);
    // Grouped by tenant_id, a stream keyed by user_id: held to one worker, and a rollout
    // removes the old pod before it starts the new one (two members would split the groups).
    expect(deployment.spec?.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  });

  it("changes nothing, status included, when it reconciles an unchanged Sink", async () => {
    const deploymentVersion = async () => (await apps.readNamespacedDeployment({ namespace, name: "page-views-raw-sink" })).metadata?.resourceVersion;
    // The autoscaler's observations may still move (warming, then holding for a group that
    // has no members, and rates decaying as the last writes leave the 5 s lookback): a write
    // is allowed only for those, and must stop once they settle.
    const settleBy = Date.now() + 60_000;
    for (;;) {
      const [d, before, k] = [await deploymentVersion(), await get("sinks", "page-views-raw"), await reconciles("Sink")];
      operator.controllers.Sink.queue.add(`${namespace}/page-views-raw`);
      await waitFor("another Sink reconcile", async () => ((await reconciles("Sink")) > k ? true : undefined));
      const after = await get("sinks", "page-views-raw");
      expect(await deploymentVersion()).toBe(d);
      if (after!.metadata.resourceVersion === before!.metadata.resourceVersion) break;
      // Written only because an observation moved: nothing else in the object differs. (The
      // observations themselves may even read the same as before: a periodic autoscale pass
      // can move them and the next move them back between the two reads.)
      const rest = (o: Live | undefined) => ({ ...o, metadata: { ...o?.metadata, resourceVersion: undefined, managedFields: undefined }, status: { ...o?.status, autoscaling: undefined, lagMessages: undefined, lagSeconds: undefined } });
      expect(rest(after)).toEqual(rest(before));
      expect(Date.now(), "status still rewritten after 60 s").toBeLessThan(settleBy);
    }
  }, 90_000);

  it("rolls the worker when batching changes, and not when only replicas change", async () => {
    const hash = async () => (await apps.readNamespacedDeployment({ namespace, name: "page-views-raw-sink" })).spec?.template.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
    const before = await hash();
    const patched = await patchSpec("sinks", "page-views-raw", { batching: { maxRows: 1234 } });
    await settled("sinks", "page-views-raw", (o) => o.status?.observedGeneration === patched.metadata.generation);
    const after = await hash();
    expect(after).not.toBe(before);
    await patchSpec("sinks", "page-views-raw", { scaling: { replicas: 2 } });
    await waitFor("replicas 2", async () => ((await apps.readNamespacedDeployment({ namespace, name: "page-views-raw-sink" })).spec?.replicas === 2 ? true : undefined));
    expect(await hash()).toBe(after);
  });

  /** The spec hash of every Deployment in the namespace: what a change rolled. */
  const hashes = async () =>
    Object.fromEntries((await apps.listNamespacedDeployment({ namespace })).items.map((d) => [d.metadata!.name!, d.spec?.template.metadata?.annotations?.[SPEC_HASH_ANNOTATION]]));

  it("grows the topic 3 -> 6 -> 12 rolling no pods; 12 -> 6 is refused by the API server, naming the field, and the topic stays at 12", async () => {
    const before = await hashes();
    for (const n of [6, 12]) {
      const patched = await patchSpec("eventstreams", "page-views", { topic: { partitions: n } });
      const s = await settled("eventstreams", "page-views", (o) => o.status?.observedGeneration === patched.metadata.generation);
      expect(s.status.partitions).toBe(n);
      expect(await partitions(topic)).toBe(n);
    }
    expect(await hashes()).toEqual(before);
    // The CRD's transition rule refuses a shrink at admission; a topic that is larger than
    // its spec some other way is the operator's to refuse (the "shrinker" test below).
    const refused = patchSpec("eventstreams", "page-views", { topic: { partitions: 6 } });
    await expect(refused).rejects.toMatchObject({ code: 422, body: expect.stringContaining("spec.topic.partitions") });
    expect((await get("eventstreams", "page-views"))!.spec.topic.partitions).toBe(12);
    expect(await partitions(topic)).toBe(12);
  });

  it("accepts a compatible schema change: a new optional field becomes schema v2 and a new column; only the stream's readers roll", async () => {
    // An unrelated stream with its own collector must not roll.
    const other = stream();
    other.metadata.name = "page-clicks";
    apply(other);
    await settled("eventstreams", "page-clicks", (o) => o.status?.observedGeneration === o.metadata.generation);
    const before = await hashes();
    expect(Object.keys(before).sort()).toEqual(["active-users-per-minute-aggregation", "page-clicks-collector", "page-views-collector", "page-views-raw-sink"]);

    const fields = [...stream().spec.schema.fields, { name: "country", type: "string" }];
    const patched = await patchSpec("eventstreams", "page-views", { schema: { version: 2, fields } });
    const s = await settled("eventstreams", "page-views", (o) => o.status?.observedGeneration === patched.metadata.generation);
    expect(s.status.schemaVersion).toBe(2);
    expect(condition(s, "SchemaCompatible")).toMatchObject({ status: "True" });
    expect((await core.readNamespacedConfigMap({ namespace, name: "page-views-schema-v2" })).data?.["schema.json"]).toContain("country");
    await waitFor("column country", async () => ((await existingColumns(clickhouse, { database, table: "page_views" })).has("country") ? true : undefined), { timeoutMs: 30_000 });
    // Everything that validates page-views events needs v2 (a strict schema refuses unknown fields); nothing else moves.
    const after = await waitFor("the page-views readers to roll", async () => {
      const h = await hashes();
      return ["page-views-collector", "page-views-raw-sink", "active-users-per-minute-aggregation"].every((d) => h[d] !== before[d]) ? h : undefined;
    }, { timeoutMs: 30_000 });
    expect(after["page-clicks-collector"]).toBe(before["page-clicks-collector"]);
  });

  it("refuses an incompatible change, naming the field, and keeps running v2 with no new column", async () => {
    const fields = [...stream().spec.schema.fields, { name: "country", type: "string" }, { name: "browser", type: "string" }]
      .map((f) => (f.name === "duration_ms" ? { ...f, type: "int64" } : f));
    const patched = await patchSpec("eventstreams", "page-views", { schema: { version: 3, fields } });
    const s = await settled("eventstreams", "page-views", (o) => condition(o, "SchemaCompatible")?.observedGeneration === patched.metadata.generation);
    expect(condition(s, "SchemaCompatible")).toMatchObject({ status: "False", reason: "Incompatible" });
    expect(condition(s, "SchemaCompatible")!.message).toContain('field "duration_ms" changed type from int32 to int64');
    expect(condition(s, "Ready")).toMatchObject({ status: "False" });
    expect(s.status.schemaVersion).toBe(2);
    expect(s.status.observedGeneration).not.toBe(patched.metadata.generation);
    await expect(core.readNamespacedConfigMap({ namespace, name: "page-views-schema-v3" })).rejects.toMatchObject({ code: 404 });
    // The sink keeps running v2: give it a resync's worth of chances to add the column anyway.
    const k = await settled("sinks", "page-views-raw");
    expect(condition(k, "SourceReady")!.message).toContain("schema v2");
    expect((await existingColumns(clickhouse, { database, table: "page_views" })).has("browser")).toBe(false);
  });

  it("refuses to shrink a topic that is larger than the spec, with a condition and one Event, leaving the topic alone", async () => {
    const name = "shrinker";
    await createTopicsAndWait(admin, [{ topic: `${namespace}.${name}`, numPartitions: 8, replicationFactor: 1 }]);
    const doc = stream();
    doc.metadata.name = name;
    doc.spec.topic.partitions = 4;
    doc.spec.deletionPolicy = "Delete";
    apply(doc);
    const s = await settled("eventstreams", name, (o) => condition(o, "TopicReady")?.status === "False");
    expect(condition(s, "TopicReady")).toMatchObject({ reason: "PartitionShrinkRefused" });
    expect(condition(s, "Ready")).toMatchObject({ status: "False", reason: "PartitionShrinkRefused" });
    // status.partitions (the PARTITIONS column) is what Kafka reports, not the spec's 4.
    expect(await partitions(`${namespace}.${name}`)).toBe(8);
    expect(s.status.partitions).toBe(await partitions(`${namespace}.${name}`));
    const events = await waitFor("a shrink event", async () => {
      const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
      const shrink = list.items.filter((e) => e.reason === "PartitionShrinkRefused");
      return shrink.length > 0 ? shrink : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]!.type).toBe("Warning");
  });

  it("refuses a stream asking for more replicas than the cluster has brokers as a spec problem, without a retry loop", async () => {
    const name = "too-wide";
    const brokers = (await admin.describeCluster()).brokers.length;
    const requeues = async () => (await registry.getSingleMetric("sluice_operator_reconcile_total")!.get()).values.find((v) => v.labels.kind === "EventStream" && v.labels.result === "requeue")?.value ?? 0;
    const before = await requeues();
    const doc = stream();
    doc.metadata.name = name;
    doc.spec.topic = { ...doc.spec.topic, replicationFactor: brokers + 2, minInSyncReplicas: 1 };
    apply(doc);
    const s = await settled("eventstreams", name, (o) => condition(o, "TopicReady")?.status === "False");
    expect(condition(s, "TopicReady")).toMatchObject({
      reason: "ReplicationFactorTooHigh",
      message: `topic ${namespace}.${name} asks for replicationFactor ${brokers + 2}, but the Kafka cluster has ${brokers} broker${brokers === 1 ? "" : "s"}: lower spec.topic.replicationFactor or add brokers`,
    });
    expect(condition(s, "Ready")).toMatchObject({ status: "False", reason: "ReplicationFactorTooHigh" });
    // A transient failure requeues at once (the first reconcile would already count); a spec problem waits for a new spec.
    expect(await requeues()).toBe(before);
    expect(await admin.listTopics()).not.toContain(`${namespace}.${name}`);
  });

  it("refuses a Sink naming a ClickHouse cluster it is not configured with, instead of writing to the default one", async () => {
    const k = sink();
    k.metadata.name = "elsewhere";
    k.spec.clickhouse.table = "elsewhere";
    k.spec.clusters = { clickhouse: "analytics" };
    apply(k);
    const o = await settled("sinks", "elsewhere");
    expect(condition(o, "Ready")).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(condition(o, "SourceReady")?.message).toBe('spec.clusters.clickhouse: no ClickHouse cluster "analytics" in the operator configuration (configured: default)');
    expect([...(await existingColumns(clickhouse, { database, table: "elsewhere" }))]).toEqual([]);
    await expect(apps.readNamespacedDeployment({ namespace, name: "elsewhere-sink" })).rejects.toMatchObject({ code: 404 });
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "sinks", name: "elsewhere" });
  });

  it("on deletion under Delete stops a Sink's and an Aggregation's workers, then drops their tables; Retain and shared tables stay", async () => {
    const tables = async () => {
      const rs = await clickhouse.query({ query: `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`, format: "JSONEachRow" });
      return ((await rs.json()) as { name: string }[]).map((r) => r.name);
    };
    const deleting = (name: string, table: string) => {
      const k = sink();
      k.metadata.name = name;
      k.spec.clickhouse.table = table;
      k.spec.deletionPolicy = "Delete";
      return k;
    };
    apply(deleting("raw-del", "raw_del"));
    apply(deleting("raw-shared", "page_views")); // page-views-raw (Retain) writes it too
    for (const name of ["raw-del", "raw-shared"]) {
      const k = await settled("sinks", name, (o) => condition(o, "Ready")?.status === "True");
      expect(k.metadata).toMatchObject({ finalizers: ["sluice.dev/cleanup"] });
    }
    expect((await get("sinks", "page-views-raw"))!.metadata).not.toHaveProperty("finalizers");
    // Retain -> Delete adds the finalizer to a running Aggregation.
    await patchSpec("aggregations", "active-users-per-minute", { deletionPolicy: "Delete" });
    await waitFor("the aggregation's finalizer", async () => ((await get("aggregations", "active-users-per-minute"))?.metadata as { finalizers?: string[] } | undefined)?.finalizers?.includes("sluice.dev/cleanup") || undefined);
    expect(await tables()).toEqual(expect.arrayContaining(["raw_del", "page_views", "active_users_per_minute", "active_users_per_minute_late"]));

    const replicas = await watchReplicas(kc, namespace);
    for (const [plural, name] of [["sinks", "raw-del"], ["sinks", "raw-shared"], ["aggregations", "active-users-per-minute"]] as const) {
      await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name });
    }
    await waitFor("the three objects gone (finalizers removed)", async () => ((await get("sinks", "raw-del")) || (await get("sinks", "raw-shared")) || (await get("aggregations", "active-users-per-minute")) ? undefined : true));
    replicas.stop();
    const left = await tables();
    expect(left).not.toContain("raw_del");
    expect(left).not.toContain("active_users_per_minute");
    expect(left).not.toContain("active_users_per_minute_late");
    expect(left).toContain("page_views");
    // Workers were stopped (scaled to 0) before the drop.
    for (const name of ["raw-del-sink", "active-users-per-minute-aggregation"]) expect(replicas.seen.get(name)).toContain(0);
    const events = (await core.listNamespacedEvent({ namespace })).items;
    const said = (name: string, reason: string) => events.filter((e) => e.involvedObject.name === name && e.reason === reason).map((e) => e.message);
    expect(said("raw-del", "TableDropped")).toEqual([`dropped table ${database}.raw_del (deletionPolicy Delete)`]);
    expect(said("active-users-per-minute", "TableDropped")).toHaveLength(2);
    expect(said("raw-shared", "TableShared")).toEqual([`kept table ${database}.page_views: Sink/${namespace}/page-views-raw still writes it`]);
  });

  it("on deletion keeps the topic under Retain and removes topic and DLQ under Delete", async () => {
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "eventstreams", name: "page-views" });
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "eventstreams", name: "shrinker" });
    await waitFor("both streams gone (finalizers removed)", async () => ((await get("eventstreams", "page-views")) || (await get("eventstreams", "shrinker")) ? undefined : true));
    const topics = await admin.listTopics();
    expect(topics).toContain(topic);
    expect(topics).toContain(`${topic}.dlq`);
    await waitFor("shrinker topics deleted", async () => {
      const now = await admin.listTopics();
      return !now.includes(`${namespace}.shrinker`) && !now.includes(`${namespace}.shrinker.dlq`) ? true : undefined;
    });
  });
});

describe("the operator when Kafka and ClickHouse are unreachable", () => {
  const kc = kubeConfig();
  const down = testNamespace("op-down");
  const { namespace } = down;
  let operator: RunningOperator;
  const get = down.get;

  beforeAll(async () => {
    await down.create();
    // Port 1 refuses connections at once: nothing listens there.
    const config = compileConfig({ kafka: "127.0.0.1:1", clickhouse: "http://127.0.0.1:1", namespace: [namespace], workers: 2, backoffBase: "200ms", backoffMax: "2s", leaderElectionNamespace: namespace });
    operator = await startOperator({ kc, config, log: silentLogger });
  });
  afterAll(async () => {
    await operator?.stop();
    await down.cleanUp();
  });

  it("says KafkaUnavailable and TableReady=False ClickHouseUnavailable, never Ready, and keeps the generation unobserved", async () => {
    const s = example("stream.yaml");
    s.spec.topic = { ...s.spec.topic, replicationFactor: 1, minInSyncReplicas: 1 };
    delete s.spec.deadLetter;
    const k = example("sink.yaml");
    kubectl(["apply", "--server-side", "-n", namespace, "-f", "-"], JSON.stringify(s));
    kubectl(["apply", "--server-side", "-n", namespace, "-f", "-"], JSON.stringify(k));
    // The operator's Kafka admin client retries its connection for some twenty seconds before giving up.
    const stream = await waitFor("TopicReady=False", async () => {
      const o = await get("eventstreams", "page-views");
      return condition(o, "TopicReady")?.status === "False" ? o : undefined;
    }, { timeoutMs: 55_000 });
    expect(condition(stream, "TopicReady")).toMatchObject({ reason: "KafkaUnavailable" });
    expect(condition(stream, "Ready")).toMatchObject({ status: "False", reason: "KafkaUnavailable" });
    expect(stream!.status.observedGeneration).toBeUndefined();
    // The schema step came first and succeeded, so the sink can resolve its source.
    const sink = await waitFor("TableReady=False", async () => {
      const o = await get("sinks", "page-views-raw");
      return condition(o, "TableReady")?.status === "False" ? o : undefined;
    }, { timeoutMs: 30_000 });
    expect(condition(sink, "TableReady")).toMatchObject({ reason: "ClickHouseUnavailable" });
    expect(condition(sink, "Ready")).toMatchObject({ status: "False" });
    expect(condition(sink, "WorkloadReady")).toBeUndefined();
    expect(operator.controllers.Sink.queue.failureCount(`${namespace}/page-views-raw`)).toBeGreaterThan(0);
  }, 120_000);

  it("holds the Lease while it runs, and a standby takes over as soon as it stops", async () => {
    const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    const holder = async () => (await coordination.readNamespacedLease({ namespace, name: "sluice-operator" })).spec?.holderIdentity;
    expect(operator.elector?.isLeader).toBe(true);
    const standby = new LeaderElector({ coordination, namespace, name: "sluice-operator", identity: "standby", clock: systemClock, log: silentLogger, timing: { leaseDurationMs: 15_000, retryPeriodMs: 200 } });
    let lost = false;
    const led = standby.run(() => (lost = true));
    // The standby retries every 200 ms while the leader keeps renewing.
    const first = await holder();
    await waitFor("a fresh renewal by the leader", async () => {
      const l = await coordination.readNamespacedLease({ namespace, name: "sluice-operator" });
      return l.spec?.renewTime && Date.now() - new Date(l.spec.renewTime).getTime() < 500 && (await holder()) === first ? true : undefined;
    });
    expect(standby.isLeader).toBe(false);
    await operator.stop();
    await led;
    expect(await holder()).toBe("standby");
    expect(lost).toBe(false);
    await standby.stop();
  });
});
