/**
 * Named clusters: the operator is configured with the testbed's Kafka and ClickHouse as
 * "default" and a private Kafka and ClickHouse as "b". A stream on Kafka "b" and a sink
 * writing to ClickHouse "b" must land there, and only there: topics, tables, the workers'
 * addresses, the lag the autoscaler reads, and deletion.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import yaml from "js-yaml";
import { createClient } from "@clickhouse/client";
import { compileConfig } from "../../operator/config.js";
import { startOperator, type RunningOperator } from "../../operator/main.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { silentLogger } from "../../runtime/log.js";
import { startClickHouse, type ClickHouseServer } from "../../testbed/clickhouse.js";
import { startKafka, type KafkaCluster } from "../../testbed/kafka.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { kubeConfig } from "../support/kube.js";
import { testbedEnv } from "../support/testbed-env.js";
import { testNamespace, type Doc, type Live } from "../support/operator-namespace.js";

const example = (file: string) => yaml.load(readFileSync(join(repoRoot, "examples", "clickstream", file), "utf8")) as Doc;
const condition = (o: Live | undefined, type: string) => (o?.status?.conditions as { type: string; status: string; reason: string; message: string }[] | undefined)?.find((c) => c.type === type);

describe("the operator with named clusters", () => {
  const env = testbedEnv();
  const kc = kubeConfig();
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const ns = testNamespace("op-clusters");
  const { namespace, database } = ns;
  const dir = mkdtempSync(join(tmpdir(), "sluice-clusters-"));
  const topic = `${namespace}.far`;
  let kafkaB: KafkaCluster;
  let clickhouseB: ClickHouseServer;
  let operator: RunningOperator;

  const topicsOn = async (brokers: string[]) => {
    const admin = kafkaClient(brokers, "clusters-test").admin();
    await admin.connect();
    try {
      return (await admin.listTopics()).filter((t) => t.startsWith(`${namespace}.`)).sort();
    } finally {
      await admin.disconnect();
    }
  };
  const tablesOn = async (url: string) => {
    const ch = createClient({ url });
    try {
      const rs = await ch.query({ query: `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`, format: "JSONEachRow" });
      return ((await rs.json()) as { name: string }[]).map((r) => r.name);
    } finally {
      await ch.close();
    }
  };
  const envOf = async (deployment: string) =>
    Object.fromEntries(((await apps.readNamespacedDeployment({ namespace, name: deployment })).spec!.template.spec!.containers[0]!.env ?? []).map((e) => [e.name, e.value]));
  const ready = (plural: string, name: string) =>
    waitFor(`${plural}/${name} Ready`, async () => {
      const o = await ns.get(plural, name);
      return condition(o, "Ready")?.status === "True" && o!.status.observedGeneration === o!.metadata.generation ? o : undefined;
    }, { timeoutMs: 45_000 });
  const refused = (plural: string, name: string, type: string) =>
    waitFor(`${plural}/${name} refused`, async () => {
      const c = condition(await ns.get(plural, name), type);
      return c?.status === "False" ? c : undefined;
    }, { timeoutMs: 30_000 });

  function stream(name: string, clusters: object): Doc {
    const s = example("stream.yaml");
    s.metadata.name = name;
    s.spec.topic = { ...s.spec.topic, partitions: 2, replicationFactor: 1, minInSyncReplicas: 1 };
    delete s.spec.deadLetter;
    s.spec.clusters = clusters;
    s.spec.deletionPolicy = "Delete";
    return s;
  }
  function sink(name: string, clusters: object): Doc {
    const s = example("sink.yaml");
    s.metadata.name = name;
    s.spec.source.stream = "far";
    s.spec.clickhouse = { ...s.spec.clickhouse, database, table: name.replace(/-/g, "_") };
    s.spec.clusters = clusters;
    s.spec.deletionPolicy = "Delete";
    return s;
  }

  beforeAll(async () => {
    [kafkaB, clickhouseB] = await Promise.all([startKafka({ dir: join(dir, "kafka"), logDir: dir }), startClickHouse({ dir: join(dir, "clickhouse"), logDir: dir })]);
    await ns.create();
    const config = compileConfig({
      kafka: env.kafkaBrokers.join(","), clickhouse: env.clickhouseUrl, kafkaCluster: [`b=${kafkaB.bootstrap}`], clickhouseCluster: [`b=${clickhouseB.url}`],
      namespace: [namespace], workers: 2, backoffBase: "200ms", backoffMax: "2s", workerImage: "sluice:test", leaderElectionNamespace: namespace, autoscaleInterval: "500ms",
    });
    operator = await startOperator({ kc, config, log: silentLogger });
  }, 120_000);
  afterAll(async () => {
    await operator?.stop();
    await ns.cleanUp();
    for (const server of [...(kafkaB?.servers ?? []), ...(clickhouseB?.servers ?? [])]) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("puts a stream's topics on its Kafka and a sink's table on its ClickHouse, and gives the workers those addresses", async () => {
    ns.apply(stream("far", { kafka: "b" }), sink("far-raw", { clickhouse: "b" }));
    await ready("eventstreams", "far");
    await ready("sinks", "far-raw");
    expect(await topicsOn(kafkaB.bootstrap.split(","))).toEqual([topic, `${topic}.dlq`]);
    expect(await topicsOn(env.kafkaBrokers)).toEqual([]);
    expect(await tablesOn(clickhouseB.url)).toEqual(["far_raw"]);
    expect(await tablesOn(env.clickhouseUrl)).toEqual([]);
    expect(await envOf("far-raw-sink")).toMatchObject({ KAFKA_BROKERS: kafkaB.bootstrap, CLICKHOUSE_URL: clickhouseB.url });
    const collectorEnv = await envOf("far-collector");
    expect(collectorEnv).toMatchObject({ KAFKA_BROKERS: kafkaB.bootstrap });
    expect(collectorEnv.CLICKHOUSE_URL).toBeUndefined();
  });

  it("reads the sink's lag from its stream's Kafka", async () => {
    const producer = kafkaClient(kafkaB.bootstrap.split(","), "clusters-test").producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 7 }, (_, i) => ({ key: `u${i}`, value: "{}" })) });
    await producer.disconnect();
    await waitFor("lagMessages 7", async () => ((await ns.get("sinks", "far-raw"))?.status?.lagMessages === 7 ? true : undefined), { timeoutMs: 30_000 });
  });

  it("refuses a reader naming another Kafka than its stream's, a stream naming a ClickHouse, and unknown clusters", async () => {
    ns.apply(sink("wrong-kafka", { kafka: "default" }), sink("unknown-clickhouse", { clickhouse: "c" }), stream("stream-with-table", { clickhouse: "b" }));
    expect((await refused("sinks", "wrong-kafka", "SourceReady")).message).toBe(
      'spec.clusters.kafka: EventStream far is on Kafka cluster "b", and a reader reads its stream where it is (leave spec.clusters.kafka out)',
    );
    expect((await refused("sinks", "unknown-clickhouse", "SourceReady")).message).toBe('spec.clusters.clickhouse: no ClickHouse cluster "c" in the operator configuration (configured: default, b)');
    expect((await refused("eventstreams", "stream-with-table", "SchemaCompatible")).message).toMatch(/^spec\.clusters\.clickhouse: an EventStream writes no table/);
    for (const name of ["wrong-kafka", "unknown-clickhouse"]) await expect(apps.readNamespacedDeployment({ namespace, name: `${name}-sink` })).rejects.toMatchObject({ code: 404 });
    expect(await topicsOn(env.kafkaBrokers)).toEqual([]);
  });

  it("deletes under Delete where the data is: the sink's table on its ClickHouse, the stream's topics on its Kafka", async () => {
    await custom.deleteNamespacedCustomObject({ group: "sluice.dev", version: "v1alpha1", namespace, plural: "sinks", name: "far-raw" });
    await waitFor("the sink gone", async () => ((await ns.get("sinks", "far-raw")) ? undefined : true), { timeoutMs: 30_000 });
    expect(await tablesOn(clickhouseB.url)).toEqual([]);
    const dropped = (await core.listNamespacedEvent({ namespace })).items.filter((e) => e.involvedObject.name === "far-raw" && e.reason === "TableDropped");
    expect(dropped.map((e) => e.message)).toEqual([`dropped table b:${database}.far_raw (deletionPolicy Delete)`]);

    await custom.deleteNamespacedCustomObject({ group: "sluice.dev", version: "v1alpha1", namespace, plural: "eventstreams", name: "far" });
    await waitFor("the far topics gone", async () => ((await topicsOn(kafkaB.bootstrap.split(","))).length === 0 ? true : undefined), { timeoutMs: 30_000 });
  });
});
