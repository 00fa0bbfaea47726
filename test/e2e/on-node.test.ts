/**
 * Sluice as a user runs it: `helm install` of charts/sluice with the image the testbed
 * built, `kubectl apply` of the clickstream example, and every component a pod on the
 * testbed's real node. Load goes through the collector Service's ClusterIP, and the
 * lost/duplicate oracle reads ClickHouse after each thing that goes wrong: a collector pod
 * deleted, a sink pod force-killed, a rollout, scaling 2 -> 3 -> 1, an operator pod killed,
 * ClickHouse and then Kafka cut off from a worker (each shown in the Sink's Retrying
 * condition while it lasts), and the pipeline's namespace deleted.
 *
 * The operator lives in its own namespace and watches the pipeline's, as a platform team
 * would install it; both namespaces enforce the `restricted` Pod Security level.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { createClient } from "@clickhouse/client";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { startContinuousLoad, type RunningLoad } from "../support/continuous-load.js";
import { kubeConfig, kubectl } from "../support/kube.js";
import { clickstreamExample, describePods, hasNode, helm, isReady, nodeEnv, pods, waitForReadyPods } from "../support/node.js";
import { oracle } from "../../testbed/oracle.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const GROUP = "sluice.dev";
const VERSION = "v1alpha1";
const restricted = { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" };
const sel = (name: string, instance: string) => `app.kubernetes.io/name=${name},app.kubernetes.io/instance=${instance}`;
const COLLECTOR = sel("sluice-collector", "page-views");
const SINK = sel("sluice-sink", "page-views-raw");
const AGGREGATION = sel("sluice-aggregation", "active-users-per-minute");

if (!hasNode) console.warn("[on-node] skipped: the testbed runs without a node (SLUICE_TESTBED_NODE=0)");

describe.skipIf(!hasNode)("Sluice on a real node: helm install, pods, and the oracle through pod failures", () => {
  const env = testbedEnv();
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const system = randomName("sluice-system");
  const ns = randomName("clicks");
  const release = randomName("sluice");
  const database = `e2e_${ns.replaceAll("-", "_")}`;
  const table = `${database}.page_views`;
  const example = clickstreamExample(database);
  // Fixed replica counts: this node has two cores, the lag autoscaler would ask for up to
  // twelve sinks (it has its own tests), and each step below sets the counts it needs.
  for (const o of example.objects) {
    if (o.kind === "EventStream") o.spec.ingest.scaling = { minReplicas: 2, maxReplicas: 2 };
    if (o.kind === "Sink" || o.kind === "Aggregation") o.spec.scaling = { ...o.spec.scaling, minReplicas: 1, maxReplicas: 1 };
  }
  const accepted = new Set<string>();
  let collectorUrl = "";

  /** Runs load while `during` breaks something, then checks nothing accepted was lost or doubled. */
  const underLoad = async (what: string, during: (load: RunningLoad) => Promise<void>) => {
    const load = startContinuousLoad({ url: collectorUrl, stream: "page-views", tenants: example.tenants, clients: 4, eventsPerRequest: 50, pauseMs: 20 });
    try {
      await waitFor(`load flowing before ${what}`, async () => (load.report.accepted.size >= 1_000 ? true : undefined), { timeoutMs: 60_000 });
      await during(load);
      const before = load.report.accepted.size;
      await waitFor(`load flowing after ${what}`, async () => (load.report.accepted.size >= before + 1_000 ? true : undefined), { timeoutMs: 120_000 });
    } finally {
      await load.stop();
    }
    for (const id of load.report.accepted) accepted.add(id);
    const verdict = await waitFor(`every accepted event queryable after ${what}`, async () => {
      const v = await oracle(env.clickhouseUrl, table, accepted);
      return v.lost === 0 ? v : undefined;
    }, { timeoutMs: 120_000, intervalMs: 1_000 }).catch(async (err: Error) => {
      const v = await oracle(env.clickhouseUrl, table, accepted);
      throw new Error(`${err.message}: lost ${v.lost} of ${v.accepted} (e.g. ${v.missingSample.join(", ")}); statuses ${JSON.stringify(load.report.statuses)}`);
    });
    console.log(`[on-node] ${what}: accepted ${verdict.accepted}, lost ${verdict.lost}, duplicates ${verdict.duplicates}, raw rows ${verdict.rawRows}; statuses ${JSON.stringify(load.report.statuses)}`);
    expect(verdict.lost).toBe(0);
    expect(verdict.duplicates).toBe(0);
    return load.report;
  };

  const patch = (kind: string, name: string, body: object) => kubectl(["-n", ns, "patch", `${kind}.${GROUP}`, name, "--type=merge", "-p", JSON.stringify(body)]);
  const uids = async (selector: string) => new Set((await pods(core, ns, selector)).map((p) => p.metadata!.uid!));

  beforeAll(async () => {
    const { helmValues } = nodeEnv();
    for (const name of [system, ns]) await core.createNamespace({ body: { metadata: { name, labels: restricted } } });
    helm([
      "install", release, join(repoRoot, "charts", "sluice"), "-n", system, "-f", helmValues,
      "--set", `watchNamespaces[0]=${ns}`, "--set", "resync=30s", "--wait", "--timeout", "3m",
    ]);
    await waitForReadyPods(core, system, sel("sluice-operator", release), 2);
    kubectl(["-n", ns, "apply", "-f", "-"], example.objects.map((o) => JSON.stringify(o)).join("\n"));
  }, 300_000);

  afterAll(async () => {
    // The release first: it owns cluster-wide objects (the cleanup ClusterRole) that
    // deleting its namespace would leave behind. The pipeline's namespace goes in its own
    // test; deleting it here is for a run that failed early.
    try {
      helm(["uninstall", release, "-n", system, "--wait", "--timeout", "2m"]);
    } catch {
      // Never installed.
    }
    for (const name of [ns, system]) await core.deleteNamespace({ name }).catch(() => {});
  }, 180_000);

  it("installs into namespaces that enforce `restricted`: the operator, collector, sink and aggregation pods are admitted and Ready", async () => {
    const [collectors, sinks, aggregations] = await Promise.all([
      waitForReadyPods(core, ns, COLLECTOR, 2),
      waitForReadyPods(core, ns, SINK, 1),
      waitForReadyPods(core, ns, AGGREGATION, 1),
    ]);
    for (const p of [...collectors, ...sinks, ...aggregations, ...(await pods(core, system, sel("sluice-operator", release)))]) {
      expect(p.spec?.securityContext?.runAsNonRoot).toBe(true);
      expect(p.spec?.nodeName).toBe("sluice-node");
    }
    const svc = await core.readNamespacedService({ name: "page-views-collector", namespace: ns });
    collectorUrl = `http://${svc.spec!.clusterIP}:80`;
    const health = await fetch(`${collectorUrl}/readyz`);
    expect(health.status).toBe(200);
  }, 300_000);

  it("collector pods: events posted to the Service land in ClickHouse; deleting a collector pod under load loses nothing", async () => {
    await underLoad("a collector pod deleted", async () => {
      const [victim] = await pods(core, ns, COLLECTOR);
      await core.deleteNamespacedPod({ name: victim!.metadata!.name!, namespace: ns });
      await waitFor("the collector replaced", async () => {
        const now = await pods(core, ns, COLLECTOR);
        return now.filter(isReady).length === 2 && !now.some((p) => p.metadata!.uid === victim!.metadata!.uid) ? true : undefined;
      }, { timeoutMs: 120_000 });
    });
  }, 400_000);

  it("the collector's HorizontalPodAutoscaler reads CPU from metrics-server", async () => {
    const autoscaling = kc.makeApiClient(k8s.AutoscalingV2Api);
    const hpa = await waitFor("the collector HPA's current CPU utilisation", async () => {
      const h = await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: "page-views-collector", namespace: ns });
      const cpu = h.status?.currentMetrics?.find((m) => m.resource?.name === "cpu")?.resource?.current.averageUtilization;
      return cpu !== undefined ? h : undefined;
    }, { timeoutMs: 120_000, intervalMs: 2_000 });
    expect(hpa.status?.conditions?.find((c) => c.type === "ScalingActive")?.status).toBe("True");
  }, 180_000);

  it("a sink pod force-killed under load is replaced by its ReplicaSet: 0 lost, 0 duplicates", async () => {
    await underLoad("a sink pod force-killed", async () => {
      const [victim] = await pods(core, ns, SINK);
      kubectl(["-n", ns, "delete", "pod", victim!.metadata!.name!, "--grace-period=0", "--force"]);
      await waitFor("a new sink pod Ready", async () => {
        const now = await pods(core, ns, SINK);
        return now.some((p) => isReady(p) && p.metadata!.uid !== victim!.metadata!.uid) ? true : undefined;
      }, { timeoutMs: 120_000 });
    });
  }, 400_000);

  it("a batching change rolls the sink under load with 0 lost and 0 duplicates; growing partitions 12 -> 16 rolls no pod", async () => {
    await underLoad("a sink rollout", async () => {
      const old = await uids(SINK);
      patch("sink", "page-views-raw", { spec: { batching: { maxRows: 20_000 } } });
      await waitFor("the sink rolled", async () => {
        const now = await pods(core, ns, SINK);
        return now.length === 1 && isReady(now[0]!) && !old.has(now[0]!.metadata!.uid!) ? true : undefined;
      }, { timeoutMs: 180_000 });
    });
    const before = new Set([...(await uids(COLLECTOR)), ...(await uids(SINK)), ...(await uids(AGGREGATION))]);
    patch("eventstream", "page-views", { spec: { topic: { partitions: 16 } } });
    const admin = kafkaClient(env.kafkaBrokers, "on-node-test").admin();
    await admin.connect();
    try {
      await waitFor("16 partitions in Kafka", async () => ((await admin.fetchTopicOffsets(`${ns}.page-views`)).length === 16 ? true : undefined), { timeoutMs: 60_000 });
    } finally {
      await admin.disconnect();
    }
    await waitFor("the stream reconciled at its new generation", async () => {
      const s = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: "eventstreams", name: "page-views" })) as any;
      return s.status?.observedGeneration === s.metadata.generation && s.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") ? true : undefined;
    }, { timeoutMs: 60_000 });
    const after = new Set([...(await uids(COLLECTOR)), ...(await uids(SINK)), ...(await uids(AGGREGATION))]);
    expect([...after].sort()).toEqual([...before].sort());
    // Events on the four new partitions are read too.
    await underLoad("partitions grown to 16", async () => {});
  }, 600_000);

  it("two sink replicas share the partitions; scaling 2 -> 3 -> 1 under load gives 0 lost and 0 duplicates", async () => {
    const scaleTo = async (n: number) => {
      patch("sink", "page-views-raw", { spec: { scaling: { minReplicas: n, maxReplicas: n } } });
      await waitForReadyPods(core, ns, SINK, n, 180_000);
    };
    await scaleTo(2);
    await underLoad("sink scaled 2 -> 3 -> 1", async () => {
      await scaleTo(3);
      await scaleTo(1);
    });
  }, 600_000);

  it("the operator pod holding the Lease is killed: the second replica takes it and reconciling goes on", async () => {
    const leaseOf = async () => (await coordination.readNamespacedLease({ name: release, namespace: system })).spec?.holderIdentity;
    const leader = await waitFor("a Lease holder", async () => (await leaseOf()) || undefined, { timeoutMs: 60_000 });
    // The identity is "<pod name>-<pid>".
    const leaderPod = (await pods(core, system, sel("sluice-operator", release))).find((p) => leader.startsWith(`${p.metadata!.name}-`));
    expect(leaderPod, `a pod named in the holder identity ${leader}`).toBeDefined();
    kubectl(["-n", system, "delete", "pod", leaderPod!.metadata!.name!, "--grace-period=0", "--force"]);
    const next = await waitFor("another replica holding the Lease", async () => {
      const h = await leaseOf();
      return h && h !== leader ? h : undefined;
    }, { timeoutMs: 90_000 });
    expect(next).not.toBe(leader);
    // A change made after the failover is reconciled: the sink's replicas. (Not the
    // aggregation's: it groups by tenant while the stream partitions by user, so it runs
    // one worker whatever its bounds, and says so in WorkloadReady.)
    patch("sink", "page-views-raw", { spec: { scaling: { minReplicas: 2, maxReplicas: 2 } } });
    await waitForReadyPods(core, ns, SINK, 2, 180_000);
    patch("sink", "page-views-raw", { spec: { scaling: { minReplicas: 1, maxReplicas: 1 } } });
    await waitForReadyPods(core, ns, SINK, 1, 180_000);
  }, 300_000);

  /** Drops or rejects (TCP reset) packets from `ip` to `ports` on the node, in a table of the test's own, until `heal()`. */
  const cutOff = (ip: string, ports: string[], name: string, verdict: "drop" | "reject with tcp reset") => {
    const nftTable = `sluice_test_${name}_${ns.replaceAll("-", "_")}`;
    execFileSync("nft", ["-f", "-"], {
      input: `table ip ${nftTable} {\n chain in { type filter hook input priority -10; ip saddr ${ip} tcp dport { ${ports.join(", ")} } ${verdict}; }\n}\n`,
    });
    return { heal: () => execFileSync("nft", ["delete", "table", "ip", nftTable]) };
  };
  const retryingOf = async (plural: string, name: string) => {
    const o = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural, name })) as any;
    return (o.status?.conditions ?? []).find((c: any) => c.type === "Retrying") as { status: string; reason: string; message: string } | undefined;
  };

  it("a sink pod cut off from ClickHouse under load: the Sink's Retrying condition names the step and the error, and clears when ClickHouse is back; 0 lost, 0 duplicates", async () => {
    const [sink] = await waitForReadyPods(core, ns, SINK, 1);
    const port = new URL(nodeEnv().clickhouseUrl).port;
    let seen: { status: string; reason: string; message: string } | undefined;
    await underLoad("ClickHouse cut off from the sink pod", async () => {
      const cut = cutOff(sink!.status!.podIP!, [port], "ch", "reject with tcp reset");
      try {
        seen = await waitFor("Retrying=True on the Sink", async () => {
          const c = await retryingOf("sinks", "page-views-raw");
          return c?.status === "True" ? c : undefined;
        }, { timeoutMs: 120_000, intervalMs: 1_000 });
      } finally {
        cut.heal();
      }
      await waitFor("Retrying=False on the Sink again", async () => ((await retryingOf("sinks", "page-views-raw"))?.status === "False" ? true : undefined), { timeoutMs: 180_000, intervalMs: 1_000 });
    });
    console.log(`[on-node] Retrying while cut off: ${seen!.reason}: ${seen!.message}`);
    expect(seen!.reason).toBe("ClickHouseRetrying");
    expect(seen!.message).toContain(`pod ${sink!.metadata!.name}: ClickHouse insert retrying since`);
    // The same worker waited it out: no restart.
    const [after] = await pods(core, ns, SINK);
    expect(after!.metadata!.uid).toBe(sink!.metadata!.uid);
  }, 600_000);

  it("a sink pod cut off from Kafka under load becomes NotReady and its Sink says Retrying=True KafkaUnreachable; both clear by themselves when Kafka is back: 0 lost, 0 duplicates", async () => {
    const [sink] = await waitForReadyPods(core, ns, SINK, 1);
    const ports = nodeEnv().kafka.map((b) => b.split(":")[1]!);
    let seen: { status: string; reason: string; message: string } | undefined;
    await underLoad("Kafka cut off from the sink pod", async () => {
      // Packets dropped, not refused: a partition looks like silence, not a reset.
      const cut = cutOff(sink!.status!.podIP!, ports, "kafka", "drop");
      let last: unknown;
      try {
        await waitFor("the sink NotReady", async () => {
          const [p] = await pods(core, ns, SINK);
          return p && !isReady(p) ? true : undefined;
        }, { timeoutMs: 180_000, intervalMs: 1_000 });
        seen = await waitFor("Retrying=True on the Sink", async () => {
          const c = await retryingOf("sinks", "page-views-raw");
          last = c;
          return c?.status === "True" ? c : undefined;
        }, { timeoutMs: 120_000, intervalMs: 1_000 }).catch(async (err: Error) => {
          const worker = await fetch(`http://${sink!.status!.podIP}:8080/status`).then((r) => r.text(), (e: Error) => e.message);
          throw new Error(`${err.message}; last condition ${JSON.stringify(last)}; the pod's /status: ${worker}`);
        });
      } finally {
        cut.heal();
      }
      await waitFor("the sink Ready again", async () => {
        const now = await pods(core, ns, SINK);
        return now.length === 1 && isReady(now[0]!) ? true : undefined;
      }, { timeoutMs: 240_000, intervalMs: 1_000 }).catch(async (err: Error) => {
        throw new Error(`${err.message}; pods: ${describePods(await pods(core, ns, SINK))}`);
      });
      await waitFor("Retrying=False on the Sink again", async () => ((await retryingOf("sinks", "page-views-raw"))?.status === "False" ? true : undefined), { timeoutMs: 120_000, intervalMs: 1_000 });
    });
    console.log(`[on-node] Retrying while cut off: ${seen!.reason}: ${seen!.message}`);
    // Catching up the backlog stays within the worker's memory budget: no OOM kill, no restart.
    const [after] = await pods(core, ns, SINK);
    expect(after!.metadata!.uid).toBe(sink!.metadata!.uid);
    expect(after!.status?.containerStatuses?.[0]?.restartCount, describePods([after!])).toBe(sink!.status?.containerStatuses?.[0]?.restartCount);
    expect(seen!.reason).toBe("KafkaUnreachable");
    expect(seen!.message).toContain(`pod ${sink!.metadata!.name}: no Kafka bootstrap broker has answered since`);
  }, 600_000);

  it("deleting the pipeline's namespace garbage-collects every workload object, and no container is left on the node", async () => {
    // Outright, with the Sluice objects and their finalizers still there: the namespace's
    // Role and RoleBinding go in no set order, and the operator must still release them
    // (the chart's cluster-wide cleanup rules). The sink's table goes too (Delete).
    patch("sinks", "page-views-raw", { spec: { deletionPolicy: "Delete" } });
    await waitFor("the sink's finalizer", async () => {
      const s = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: "sinks", name: "page-views-raw" })) as { metadata: { finalizers?: string[] } };
      return s.metadata.finalizers?.includes("sluice.dev/cleanup") ? true : undefined;
    }, { timeoutMs: 60_000 });
    await core.deleteNamespace({ name: ns });
    await waitFor(`namespace ${ns} gone`, async () => {
      try {
        await core.readNamespace({ name: ns });
        return undefined;
      } catch (err) {
        return (err as { code?: number }).code === 404 ? true : undefined;
      }
    }, { timeoutMs: 240_000, intervalMs: 1_000 });
    const clickhouse = createClient({ url: env.clickhouseUrl });
    try {
      const rows = await (await clickhouse.query({ query: `SELECT name FROM system.tables WHERE database = '${database}'`, format: "JSONEachRow" })).json<{ name: string }>();
      expect(rows.map((r) => r.name)).not.toContain("page_views");
    } finally {
      await clickhouse.close();
    }
    expect((await apps.listDeploymentForAllNamespaces({ labelSelector: "app.kubernetes.io/part-of=sluice" })).items.filter((d) => d.metadata?.namespace === ns)).toEqual([]);
    const address = process.env.SLUICE_CONTAINERD_ADDRESS!;
    await waitFor("no container of the namespace left in containerd", async () => {
      const out = execFileSync("ctr", ["--address", address, "-n", "k8s.io", "containers", "ls", "-q", `labels."io.kubernetes.pod.namespace"==${ns}`], { encoding: "utf8" });
      return out.trim() === "" ? true : undefined;
    }, { timeoutMs: 120_000, intervalMs: 1_000 });
  }, 400_000);
});
