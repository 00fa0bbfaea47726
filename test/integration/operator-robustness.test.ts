/**
 * The operator when things around it fail: Kafka goes away and comes back, the operator is
 * stopped mid-reconcile and replaced, two replicas run at once. Real testbed (shared
 * ClickHouse and API server; a private Kafka for the outage), random namespaces.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import yaml from "js-yaml";
import { Registry } from "prom-client";
import { silentLogger } from "../../runtime/log.js";
import { compileConfig, type OperatorConfigInput } from "../../operator/config.js";
import { startOperator, type RunningOperator } from "../../operator/main.js";
import { startKafka, type KafkaCluster } from "../../testbed/kafka.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { kubeConfig } from "../support/kube.js";
import { testbedEnv } from "../support/testbed-env.js";
import { testNamespace, type Doc, type Live } from "../support/operator-namespace.js";

const env = testbedEnv();
const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);

type Condition = { type: string; status: string; reason: string };
const example = (file: string) => yaml.load(readFileSync(join(repoRoot, "examples", "clickstream", file), "utf8")) as Doc;
const condition = (o: Live | undefined, type: string) => (o?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);

function stream(name = "page-views"): Doc {
  const s = example("stream.yaml");
  s.metadata.name = name;
  s.spec.topic = { ...s.spec.topic, partitions: 1, replicationFactor: 1, minInSyncReplicas: 1 };
  delete s.spec.deadLetter;
  return s;
}
function sink(name: string, streamName: string, database: string): Doc {
  const s = example("sink.yaml");
  s.metadata.name = name;
  s.spec.source.stream = streamName;
  s.spec.clickhouse = { ...s.spec.clickhouse, database, table: name.replace(/-/g, "_") };
  return s;
}

function operatorConfig(namespace: string, identity: string, overrides: OperatorConfigInput = {}) {
  const config = compileConfig({ kafka: env.kafkaBrokers.join(","), clickhouse: env.clickhouseUrl, namespace: [namespace], workers: 2, backoffBase: "200ms", backoffMax: "2s", workerImage: "sluice:test", leaderElectionNamespace: namespace, ...overrides });
  // In-process instances share HOSTNAME and pid: give each its own Lease identity.
  config.leaderElection.identity = identity;
  return config;
}

const reconciles = async (registry: Registry) =>
  (await registry.getSingleMetric("sluice_operator_reconcile_total")!.get()).values.reduce((n, v) => n + v.value, 0);

/** Waits for Ready=True on the object's current generation. */
const ready = (ns: ReturnType<typeof testNamespace>, plural: string, name: string, timeoutMs = 60_000) =>
  waitFor(`${plural}/${name} Ready`, async () => {
    const o = await ns.get(plural, name);
    return condition(o, "Ready")?.status === "True" && o!.status.observedGeneration === o!.metadata.generation ? o : undefined;
  }, { timeoutMs });

describe("when Kafka goes away and comes back", () => {
  const ns = testNamespace("op-kafka-out");
  const dir = mkdtempSync(join(tmpdir(), "sluice-kafka-outage-"));
  let cluster: KafkaCluster;
  let operator: RunningOperator;

  beforeAll(async () => {
    await ns.create();
    cluster = await startKafka({ dir, logDir: dir, brokers: 1 });
    // A short resync: the outage is noticed without any change to the stream.
    const config = operatorConfig(ns.namespace, "outage", { kafka: cluster.bootstrap, resync: "2s" });
    operator = await startOperator({ kc, config, log: silentLogger });
  }, 120_000);

  afterAll(async () => {
    await operator?.stop();
    for (const server of cluster?.servers ?? []) await server.stop();
    await ns.cleanUp([]); // the private cluster is gone with its topics
    rmSync(dir, { recursive: true, force: true });
  });

  it("says KafkaUnavailable while the broker is down, and is Ready again once it is back, without anyone touching the stream", async () => {
    ns.apply(stream());
    const before = await ready(ns, "eventstreams", "page-views");
    await cluster.servers[0]!.stop();
    // The operator's Kafka admin client retries its connection for some twenty seconds before giving up.
    const down = await waitFor("TopicReady=False KafkaUnavailable", async () => {
      const o = await ns.get("eventstreams", "page-views");
      return condition(o, "TopicReady")?.reason === "KafkaUnavailable" ? o : undefined;
    }, { timeoutMs: 90_000 });
    expect(condition(down, "TopicReady")).toMatchObject({ status: "False" });
    expect(condition(down, "Ready")).toMatchObject({ status: "False", reason: "KafkaUnavailable" });
    await cluster.restart();
    const after = await ready(ns, "eventstreams", "page-views", 90_000);
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(condition(after, "TopicReady")).toMatchObject({ status: "True" });
  }, 240_000);
});

describe("when the operator is stopped mid-reconcile and a new one starts", () => {
  const ns = testNamespace("op-restart");
  const streams = ["s-a", "s-b", "s-c"];
  let first: RunningOperator | undefined;
  let second: RunningOperator | undefined;

  beforeAll(() => ns.create());
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await ns.cleanUp();
  });

  it("converges, with exactly one of every object", async () => {
    first = await startOperator({ kc, config: operatorConfig(ns.namespace, "first"), log: silentLogger });
    ns.apply(...streams.map((s) => stream(s)), ...streams.map((s) => sink(`${s}-sink`, s, ns.database)));
    // Stop as soon as the first objects appear: the rest of the work is half done.
    await waitFor("a first schema ConfigMap", async () => ((await core.listNamespacedConfigMap({ namespace: ns.namespace, labelSelector: "sluice.dev/eventstream" })).items.length > 0 ? true : undefined));
    await first.stop();
    first = undefined;
    second = await startOperator({ kc, config: operatorConfig(ns.namespace, "second"), log: silentLogger });
    for (const s of streams) await ready(ns, "eventstreams", s);
    for (const s of streams) await ready(ns, "sinks", `${s}-sink`);

    const schemas = await core.listNamespacedConfigMap({ namespace: ns.namespace, labelSelector: "sluice.dev/eventstream" });
    expect(schemas.items.map((c) => c.metadata!.name).sort()).toEqual(streams.map((s) => `${s}-schema-v1`));
    const managed = "app.kubernetes.io/managed-by=sluice-operator";
    const configs = await core.listNamespacedConfigMap({ namespace: ns.namespace, labelSelector: managed });
    const expected = streams.flatMap((s) => [`${s}-schema-v1`, `${s}-sink-sink-config`, `${s}-collector-config`]).sort();
    expect(configs.items.map((c) => c.metadata!.name).sort()).toEqual(expected);
    const deployments = await apps.listNamespacedDeployment({ namespace: ns.namespace, labelSelector: managed });
    expect(deployments.items.map((d) => d.metadata!.name).sort()).toEqual(streams.flatMap((s) => [`${s}-collector`, `${s}-sink-sink`]).sort());
    const accounts = await core.listNamespacedServiceAccount({ namespace: ns.namespace, labelSelector: managed });
    expect(accounts.items).toHaveLength(2 * streams.length);
    const services = await core.listNamespacedService({ namespace: ns.namespace, labelSelector: managed });
    expect(services.items.map((x) => x.metadata!.name).sort()).toEqual(streams.map((s) => `${s}-collector`));
  }, 180_000);
});

describe("with two operator replicas", () => {
  const ns = testNamespace("op-leader");
  const timing = { leaseDurationMs: 15_000, retryPeriodMs: 200, renewDeadlineMs: 10_000 };
  const registries = { a: new Registry(), b: new Registry() };
  let a: RunningOperator | undefined;
  let b: Promise<RunningOperator> | undefined;
  const holder = async () => (await coordination.readNamespacedLease({ namespace: ns.namespace, name: "sluice-operator" })).spec?.holderIdentity;

  beforeAll(() => ns.create());
  afterAll(async () => {
    await a?.stop();
    // b resolves only once it leads; after a test failure it may never: don't wait on it then.
    const running = await Promise.race([b, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20_000))]);
    await running?.stop();
    await ns.cleanUp();
  });

  it("lets only the leader reconcile, and hands over when the leader stops", async () => {
    a = await startOperator({ kc, config: operatorConfig(ns.namespace, "a"), log: silentLogger, registry: registries.a, leaseTiming: timing });
    // startOperator resolves only once the candidate leads: b waits as a standby.
    b = startOperator({ kc, config: operatorConfig(ns.namespace, "b"), log: silentLogger, registry: registries.b, leaseTiming: timing });
    ns.apply(stream("one"));
    await ready(ns, "eventstreams", "one");
    expect(await holder()).toBe("a");
    expect(await reconciles(registries.a)).toBeGreaterThan(0);
    expect(await reconciles(registries.b)).toBe(0);

    const byA = await reconciles(registries.a);
    await a.stop();
    a = undefined;
    const standby = await b;
    expect(standby.elector?.isLeader).toBe(true);
    expect(await holder()).toBe("b");
    ns.apply(stream("two"));
    await ready(ns, "eventstreams", "two");
    expect(await reconciles(registries.b)).toBeGreaterThan(0);
    expect(await reconciles(registries.a)).toBe(byA);
  }, 120_000);
});
