/**
 * Autoscaling on consumer lag, end to end: the operator reconciles a Sink, a real
 * `sluice worker sink` process runs the exact config from the operator's ConfigMap (the
 * testbed has no kubelet, so we play the pod), a backlog is waiting in Kafka, and the
 * operator must see the group's lag and consumption rate and scale the Deployment up,
 * capped by the partition count, then report the lag drained.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import yaml from "js-yaml";
import { compileConfig } from "../../operator/config.js";
import { startOperator, type RunningOperator } from "../../operator/main.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { silentLogger } from "../../runtime/log.js";
import { createRegistry } from "../../runtime/metrics/registry.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { clickEvent } from "../../testbed/load-generator.js";
import { kubeConfig } from "../support/kube.js";
import { testbedEnv } from "../support/testbed-env.js";
import { testNamespace, type Doc } from "../support/operator-namespace.js";

const PARTITIONS = 4;
const BACKLOG = 200_000;

const example = (file: string) => yaml.load(readFileSync(join(repoRoot, "examples", "clickstream", file), "utf8")) as Doc;

describe("the operator scales a Sink on its consumer lag", () => {
  const env = testbedEnv();
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const ns = testNamespace("autoscale");
  const { namespace, database } = ns;
  const dir = mkdtempSync(join(tmpdir(), "sluice-autoscale-"));
  let operator: RunningOperator;
  const registry = createRegistry();
  let worker: ChildProcess | undefined;
  const sinkStatus = async () => (await ns.get("sinks", "page-views-raw"))?.status;
  const replicas = async () => (await apps.readNamespacedDeployment({ namespace, name: "page-views-raw-sink" })).spec?.replicas;

  beforeAll(async () => {
    await ns.create();
    const config = compileConfig({
      kafka: env.kafkaBrokers.join(","), clickhouse: env.clickhouseUrl, namespace: [namespace], workers: 2,
      backoffBase: "200ms", backoffMax: "5s", workerImage: "sluice:test", leaderElectionNamespace: namespace, autoscaleInterval: "500ms",
    });
    operator = await startOperator({ kc, config, log: silentLogger, registry });
  });
  afterAll(async () => {
    worker?.kill("SIGKILL");
    await operator?.stop();
    await ns.cleanUp();
    rmSync(dir, { recursive: true, force: true });
  });

  it("holds at one replica with a backlog and no consumer, scales up once a worker drains it, never past the partitions", async () => {
    const stream = example("stream.yaml");
    stream.spec.topic = { ...stream.spec.topic, partitions: PARTITIONS, replicationFactor: 1, minInSyncReplicas: 1 };
    delete stream.spec.deadLetter;
    const sink = example("sink.yaml");
    sink.spec.clickhouse.database = database;
    // A 1 s lag target: a backlog of more than a second's work for one worker needs more workers.
    sink.spec.scaling = { minReplicas: 1, maxReplicas: 10, targetLagSeconds: 1 };
    sink.spec.batching = { maxRows: 5_000, maxBytes: 8_388_608, maxDelay: "200ms" };
    ns.apply(stream, sink);
    await waitFor("the sink Ready", async () => ((await sinkStatus())?.conditions?.some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True") ? true : undefined), { timeoutMs: 60_000 });

    const topic = `${namespace}.page-views`;
    const producer = kafkaClient(env.kafkaBrokers, "autoscale-test").producer();
    await producer.connect();
    for (let start = 0; start < BACKLOG; start += 10_000) {
      const messages = Array.from({ length: 10_000 }, (_, k) => {
        const e = clickEvent(start + k, "shop-a");
        return { key: String(e.user_id), value: JSON.stringify(e) };
      });
      await producer.send({ topic, messages });
    }
    await producer.disconnect();

    // The backlog alone, with nobody consuming, gives no rate to size from: hold, and say why.
    await waitFor(`lagMessages ${BACKLOG}`, async () => ((await sinkStatus())?.lagMessages === BACKLOG ? true : undefined), { timeoutMs: 30_000 });
    expect(await replicas()).toBe(1);
    expect(["Warming", "RebalanceSettling", "NoProgress"]).toContain((await sinkStatus())?.autoscaling?.reason);

    // Play the Deployment's pod: the exact config the operator wrote.
    const cm = await core.readNamespacedConfigMap({ namespace, name: "page-views-raw-sink-config" });
    const configFile = join(dir, "sink.json");
    writeFileSync(configFile, cm.data!["sink.json"]!);
    worker = spawn(join(repoRoot, "bin", "sluice.js"), ["worker", "sink", "--config", configFile, "--host", "127.0.0.1", "--port", "0"], {
      env: { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(","), CLICKHOUSE_URL: env.clickhouseUrl },
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<string>((ok) => createInterface({ input: worker!.stdout! }).once("line", ok));

    let most = 1;
    let lagSecondsSeen: number | undefined;
    await waitFor("the backlog drained", async () => {
      const [n, s] = [(await replicas()) ?? 0, await sinkStatus()];
      most = Math.max(most, n);
      if (typeof s?.lagSeconds === "number" && s.lagSeconds > 0) lagSecondsSeen ??= s.lagSeconds;
      return s?.lagMessages === 0 ? true : undefined;
    }, { timeoutMs: 120_000, intervalMs: 200 });
    console.log(`[autoscale] backlog ${BACKLOG} over ${PARTITIONS} partitions: most replicas ${most}, first lagSeconds ${lagSecondsSeen}`);
    expect(most).toBeGreaterThanOrEqual(2);
    expect(most).toBeLessThanOrEqual(PARTITIONS);
    expect(lagSecondsSeen).toBeGreaterThan(0);
    // Caught up: scale-down waits out its window (2 min by default), so the count is still what it was.
    expect(await replicas()).toBe(most);
    // Reported: status, one Event per change, and the series a hand-over to KEDA or an HPA reads.
    const status = await sinkStatus();
    expect(status.autoscaling).toMatchObject({ currentReplicas: most, desiredReplicas: most, lastScaleReason: expect.stringMatching(/^BacklogAboveTarget: scale \d+ → \d+/) });
    expect(status.autoscaling.lastScaleTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    const events = (await core.listNamespacedEvent({ namespace })).items.filter((e) => e.involvedObject.kind === "Sink" && e.reason === "ScaledUp");
    expect(events.length).toBeGreaterThanOrEqual(1);
    const metrics = await registry.metrics();
    expect(metrics).toContain(`sluice_autoscaler_desired_replicas{kind="Sink",namespace="${namespace}",name="page-views-raw"} ${most}`);
    expect(metrics).toMatch(new RegExp(`sluice_autoscaler_scale_events_total\\{kind="Sink",namespace="${namespace}",name="page-views-raw",direction="up"\\} [1-9]`));
  }, 240_000);
});
