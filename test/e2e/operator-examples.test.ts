import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { KINDS } from "../../api/kinds.js";
import { compileConfig } from "../../operator/config.js";
import { startOperator, type RunningOperator } from "../../operator/main.js";
import { silentLogger } from "../../runtime/log.js";
import { startKafka, type KafkaCluster } from "../testbed/kafka.js";
import { logTail } from "../testbed/server-process.js";
import { repoRoot } from "../testbed/paths.js";
import { waitFor } from "../testbed/poll.js";
import { kubeConfig, kubectl } from "../support/kube.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const GROUP = "sluice.dev";
const EXAMPLES = ["clickstream", "ad-clicks", "delivery", "audit-log"];

/**
 * The examples exactly as written (replication 3, min in-sync 2) against a three-broker
 * Kafka, reconciled by the operator: every resource Ready, and `kubectl get sluice`
 * showing the columns filled. The operator never clamps what a spec declares, which is
 * why this needs its own three-node cluster.
 */
describe("the operator on every example, unmodified", () => {
  const env = testbedEnv();
  const namespace = randomName("examples");
  const dir = mkdtempSync(join(tmpdir(), "sluice-kafka3-"));
  let kafka: KafkaCluster;
  let operator: RunningOperator;
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);

  beforeAll(async () => {
    kafka = await startKafka({ dir, logDir: dir, brokers: 3 });
    kubectl(["apply", "--server-side", "--force-conflicts", "-f", join(repoRoot, "crds")]);
    kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...KINDS.map((k) => `crd/${k.plural}.${GROUP}`)]);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const config = compileConfig({
      kafka: kafka.bootstrap, clickhouse: env.clickhouseUrl, namespace: [namespace], resync: "30s", workers: 2,
      backoffBase: "200ms", backoffMax: "5s", workerImage: "sluice:test", leaderElectionNamespace: namespace, autoscaleInterval: "1s",
    });
    operator = await startOperator({ kc, config, log: silentLogger });
  }, 180_000);
  afterAll(async () => {
    await operator?.stop();
    await Promise.all(kafka?.servers.map((s) => s.stop()) ?? []);
    rmSync(dir, { recursive: true, force: true });
  });

  it("brings every EventStream, Sink and Aggregation to Ready, with kubectl get sluice columns filled", async () => {
    for (const example of EXAMPLES) kubectl(["apply", "-n", namespace, "-f", join(repoRoot, "examples", example)]);
    const all = async () =>
      (await Promise.all(KINDS.map(async (k) => ((await custom.listNamespacedCustomObject({ group: GROUP, version: "v1alpha1", namespace, plural: k.plural })) as { items: any[] }).items))).flat();
    const notReady = async () =>
      (await all()).filter((o) => !o.status?.conditions?.some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True"));
    await waitFor("every example resource Ready", async () => ((await notReady()).length === 0 ? true : undefined), { timeoutMs: 150_000, intervalMs: 1000 }).catch(async (err: Error) => {
      const stuck = (await notReady()).map((o) => `${o.kind}/${o.metadata.name}: ${JSON.stringify(o.status?.conditions?.filter((c: { status: string }) => c.status !== "True"))}`);
      // Seen once in a full-suite run: every stream stuck at "does not host this
      // topic-partition" for minutes. Keep the brokers' own account for next time.
      const brokers = kafka.servers.map((srv) => `--- ${srv.name}\n${logTail(srv.logFile, 15)}`);
      throw new Error(`${err.message}\n${stuck.join("\n")}\n${brokers.join("\n")}`);
    });
    expect(await all()).toHaveLength(10); // 4 streams, 3 aggregations, 3 sinks
    const table = kubectl(["get", "sluice", "-n", namespace]);
    console.log(table);
    expect(table).toMatch(/eventstream.sluice.dev\/page-views\s+True\s+examples-[0-9a-f]+\.page-views\s+12\s+1\s/);
    // REPLICAS counts running pods: the testbed has no kubelet, so 0 here; LAG is read from Kafka.
    expect(table).toMatch(/sink.sluice.dev\/page-views-raw\s+True\s+page-views\s+page_views\s+\d+\s+\d+/);
    expect(table).toMatch(/aggregation.sluice.dev\/city-speed-5m\s+True\s+driver-locations\s+sliding\s+\d+\s+\d+/);
  }, 240_000);
});
