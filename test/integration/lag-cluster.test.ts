/**
 * `sluice lag` against a cluster: with no manifests and no --group it reads the Sinks and
 * Aggregations of the kubeconfig's namespace (or -n) from the API server, and measures
 * the groups the operator gives them (sluice.<namespace>.sink|aggregation.<name>).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { kubeConfig, kubectl } from "../support/kube.js";
import { applyCrds } from "../support/operator-namespace.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const sluice = join(repoRoot, "bin", "sluice.js");
const SPAWN_BUDGET_MS = 60_000;

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(sluice, args, { encoding: "utf8", timeout: SPAWN_BUDGET_MS, env: { ...process.env, KAFKA_BROKERS: "", ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ code, stdout, stderr: err?.killed ? `${stderr}\n(killed after ${SPAWN_BUDGET_MS} ms)` : stderr });
    });
  });
}

describe("sluice lag against a cluster", () => {
  const env = testbedEnv();
  const brokers = env.kafkaBrokers.join(",");
  const kafka = kafkaClient(env.kafkaBrokers, "lag-cluster-test");
  const admin = kafka.admin();
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const ns = randomName("lagk");
  const topic = `${ns}.views`;
  const groupId = `sluice.${ns}.sink.views-raw`;
  const dir = mkdtempSync(join(tmpdir(), "sluice-lag-cluster-"));
  // A kubeconfig whose context names the namespace, as `kubectl config set-context --current --namespace` leaves it.
  const nsKubeconfig = join(dir, "kubeconfig");

  beforeAll(async () => {
    applyCrds(); // on its own this file may be the first to need them
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const stream = {
      apiVersion: "sluice.dev/v1alpha1", kind: "EventStream", metadata: { name: "views" },
      spec: {
        topic: { partitions: 2, replicationFactor: 1, minInSyncReplicas: 1 },
        schema: { version: 1, fields: [{ name: "event_id", type: "string", required: true }, { name: "event_time", type: "timestamp", required: true }] },
        keys: { eventId: "event_id", eventTime: "event_time" },
        ingest: { enabled: false },
      },
    };
    const sink = { apiVersion: "sluice.dev/v1alpha1", kind: "Sink", metadata: { name: "views-raw" }, spec: { source: { stream: "views" }, clickhouse: { database: "lagk", table: "views", orderBy: ["event_time", "event_id"] } } };
    kubectl(["-n", ns, "apply", "-f", "-"], [stream, sink].map((o) => JSON.stringify(o)).join("\n"));
    const kc = kubeConfig();
    kc.setCurrentContext(kc.getCurrentContext());
    const ctx = kc.getContextObject(kc.getCurrentContext())!;
    const withNs = new k8s.KubeConfig();
    withNs.loadFromOptions({ clusters: kc.clusters, users: kc.users, contexts: [{ ...ctx, namespace: ns }], currentContext: ctx.name });
    writeFileSync(nsKubeconfig, withNs.exportConfig());

    // The operator is not running: the topic and the group's commit stand in for its workers.
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 6 }, (_, i) => ({ value: `v${i}`, partition: 0 })) });
    await producer.disconnect();
    const member = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await member.connect();
    await member.subscribe({ topics: [topic] });
    let committed = false;
    await member.run({
      eachMessage: async ({ partition, message }) => {
        if (partition === 0 && message.offset === "1" && !committed) {
          committed = true;
          await member.commitOffsets([{ topic, partition: 0, offset: "2" }]);
        }
      },
    });
    await waitFor("the group's commit", async () => ((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions.find((p) => p.partition === 0)?.offset === "2" ? true : undefined));
    await member.disconnect();
  }, 120_000);

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
    await core.deleteNamespace({ name: ns }).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it("measures the namespace's Sinks from the API server, in the kubeconfig context's namespace", async () => {
    const run = await runCli(["lag", "--kafka", brokers, "--no-seconds", "-o", "json"], { KUBECONFIG: nsKubeconfig });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const groups = (JSON.parse(run.stdout) as { groups: { groupId: string; kind: string; name: string; lag: { messages: number } }[] }).groups;
    expect(groups.map((g) => [g.kind, g.name, g.groupId])).toEqual([["Sink", "views-raw", groupId]]);
    expect(groups[0]!.lag.messages).toBe(4);
  });

  it("takes -n over the context's namespace, and names what is missing with a hint", async () => {
    const byName = await runCli(["lag", "views-raw", "-n", ns, "--kafka", brokers, "--no-seconds", "-o", "json"], { KUBECONFIG: env.kubeconfig });
    expect(byName.stderr).toBe("");
    expect((JSON.parse(byName.stdout) as { groups: { groupId: string }[] }).groups.map((g) => g.groupId)).toEqual([groupId]);

    const unknown = await runCli(["lag", "nope", "-n", ns, "--kafka", brokers], { KUBECONFIG: env.kubeconfig });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`no Sink or Aggregation "nope" in namespace ${ns}`);
    expect(unknown.stderr).toContain("hint: there: views-raw");

    const empty = await runCli(["lag", "-n", randomName("empty"), "--kafka", brokers], { KUBECONFIG: env.kubeconfig });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no Sink or Aggregation in namespace .*\n\s+hint: name another namespace with -n/);

    const noCluster = await runCli(["lag", "--kafka", brokers], { KUBECONFIG: join(dir, "missing-kubeconfig") });
    expect(noCluster.code).toBe(2);
    expect(noCluster.stderr).toContain("hint:");
  });
});
