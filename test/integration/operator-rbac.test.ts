/**
 * The chart's RBAC is enough, and no more: the operator runs in-process as the chart's
 * ServiceAccount (a token minted with the TokenRequest API; the testbed has no
 * controller-manager, and RBAC is on) and brings an EventStream and a Sink to Ready, while
 * the same identity is refused what it does not need. The rules come from
 * charts/sluice/rbac/*.yaml, the files the chart's Role templates include.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import yaml from "js-yaml";
import { createClient } from "@clickhouse/client";
import { silentLogger } from "../../runtime/log.js";
import { compileConfig } from "../../operator/config.js";
import { startOperator, type RunningOperator } from "../../operator/main.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { kubeConfig, kubectl, watchReplicas } from "../support/kube.js";
import { testbedEnv } from "../support/testbed-env.js";
import { testNamespace, type Doc, type Live } from "../support/operator-namespace.js";

const env = testbedEnv();
const GROUP = "sluice.dev";
const VERSION = "v1alpha1";
const chartRules = (file: string) => yaml.load(readFileSync(join(repoRoot, "charts", "sluice", "rbac", file), "utf8")) as k8s.V1PolicyRule[];

const example = (file: string) => yaml.load(readFileSync(join(repoRoot, "examples", "clickstream", file), "utf8")) as Doc;
const condition = (o: Live | undefined, type: string) => (o?.status?.conditions as { type: string; status: string; reason: string }[] | undefined)?.find((c) => c.type === type);

/** A KubeConfig for the testbed's API server (self-signed: skip TLS verification) as `token`. */
function kubeConfigWithToken(admin: k8s.KubeConfig, token: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "testbed", server: admin.getCurrentCluster()!.server, skipTLSVerify: true }],
    users: [{ name: "sluice-operator", token }],
    contexts: [{ name: "sluice-operator", cluster: "testbed", user: "sluice-operator" }],
    currentContext: "sluice-operator",
  });
  return kc;
}

describe("the operator under the chart's RBAC", () => {
  const admin = kubeConfig();
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  const custom = admin.makeApiClient(k8s.CustomObjectsApi);
  const apps = admin.makeApiClient(k8s.AppsV1Api);
  const policy = admin.makeApiClient(k8s.PolicyV1Api);
  const ns = testNamespace("op-rbac");
  const { namespace, database } = ns;
  const sa = "sluice-operator";
  let operatorKc: k8s.KubeConfig;
  let operator: RunningOperator;

  const get = ns.get;

  /** The chart's Role + RoleBinding, as rendered with watchNamespaces: [namespace]. */
  async function bind(name: string, rules: k8s.V1PolicyRule[]) {
    await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: { metadata: { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name }, subjects: [{ kind: "ServiceAccount", name: sa, namespace }] },
    });
  }

  beforeAll(async () => {
    await ns.create(join(repoRoot, "charts", "sluice", "crds")); // the chart's copy, as Helm installs it
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
    await bind("sluice", chartRules("operator-rules.yaml"));
    await bind("sluice-leader-election", chartRules("leader-election-rules.yaml"));
    const minted = await core.createNamespacedServiceAccountToken({ namespace, name: sa, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
    operatorKc = kubeConfigWithToken(admin, minted.status!.token);
    const config = compileConfig({ kafka: env.kafkaBrokers.join(","), clickhouse: env.clickhouseUrl, namespace: [namespace], workers: 2, backoffBase: "200ms", backoffMax: "5s", workerImage: "sluice:test", leaderElectionNamespace: namespace });
    config.leaderElection.identity = "rbac-test";
    operator = await startOperator({ kc: operatorKc, config, log: silentLogger });
  });

  afterAll(async () => {
    await operator?.stop();
    await ns.cleanUp();
  });

  it("runs as the ServiceAccount, not as the testbed's admin", async () => {
    const review = await operatorKc.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${namespace}:${sa}`);
    expect(operator.elector?.isLeader).toBe(true);
  });

  it("brings an EventStream and a Sink to Ready and creates every workload object", async () => {
    const stream = example("stream.yaml");
    stream.spec.topic = { ...stream.spec.topic, partitions: 1, replicationFactor: 1, minInSyncReplicas: 1 };
    delete stream.spec.deadLetter;
    const sink = example("sink.yaml");
    sink.spec.clickhouse.database = database;
    kubectl(["apply", "--server-side", "-n", namespace, "-f", "-"], JSON.stringify(stream));
    kubectl(["apply", "--server-side", "-n", namespace, "-f", "-"], JSON.stringify(sink));
    for (const [plural, name] of [["eventstreams", "page-views"], ["sinks", "page-views-raw"]] as const) {
      const o = await waitFor(`${plural}/${name} Ready`, async () => {
        const live = await get(plural, name);
        return condition(live, "Ready")?.status === "True" && live!.status.observedGeneration === live!.metadata.generation ? live : undefined;
      }, { timeoutMs: 50_000 });
      // The stream's finalizer (it may delete topics) was patched on by the operator too.
      if (plural === "eventstreams") expect(o.metadata).toMatchObject({ finalizers: [expect.stringContaining("sluice.dev")] });
    }
    await core.readNamespacedConfigMap({ namespace, name: "page-views-schema-v1" });
    await core.readNamespacedConfigMap({ namespace, name: "page-views-raw-sink-config" });
    await core.readNamespacedServiceAccount({ namespace, name: "page-views-raw-sink" });
    const deployment = await apps.readNamespacedDeployment({ namespace, name: "page-views-raw-sink" });
    expect(deployment.metadata?.managedFields?.map((m) => m.manager)).toContain("sluice-operator");
    await policy.readNamespacedPodDisruptionBudget({ namespace, name: "page-views-raw-sink" });
    await admin.makeApiClient(k8s.AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ namespace, name: "page-views-collector" });
    const events = await core.listNamespacedEvent({ namespace });
    expect(events.items.map((e) => e.source?.component ?? e.reportingComponent)).toContain("sluice-operator");
    const lease = await admin.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace, name: "sluice-operator" });
    expect(lease.spec?.holderIdentity).toBe("rbac-test");
  }, 90_000);

  it("can carry out deletionPolicy Delete: scales the worker to zero and drops the table, with no more rights", async () => {
    await custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: "sinks", name: "page-views-raw", body: { spec: { deletionPolicy: "Delete" } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await waitFor("the sink's finalizer", async () => ((await get("sinks", "page-views-raw"))?.metadata as { finalizers?: string[] } | undefined)?.finalizers?.length || undefined);
    const replicas = await watchReplicas(admin, namespace);
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "sinks", name: "page-views-raw" });
    await waitFor("the sink gone", async () => ((await get("sinks", "page-views-raw")) ? undefined : true), { timeoutMs: 30_000 });
    replicas.stop();
    expect(replicas.seen.get("page-views-raw-sink")).toContain(0);
    const clickhouse = createClient({ url: env.clickhouseUrl });
    const rs = await clickhouse.query({ query: `SELECT count() AS n FROM system.tables WHERE database = '${database}' AND name = 'page_views'`, format: "JSONEachRow" });
    expect(Number(((await rs.json()) as { n: string }[])[0]!.n)).toBe(0);
    await clickhouse.close();
  });

  it("is refused what it does not need: Secrets, deleting namespaces, objects in other namespaces", async () => {
    const asOperator = operatorKc.makeApiClient(k8s.CoreV1Api);
    await expect(asOperator.listNamespacedSecret({ namespace })).rejects.toMatchObject({ code: 403 });
    await expect(asOperator.readNamespacedSecret({ namespace, name: "anything" })).rejects.toMatchObject({ code: 403 });
    await expect(asOperator.deleteNamespace({ name: namespace })).rejects.toMatchObject({ code: 403 });
    await expect(asOperator.listNamespacedConfigMap({ namespace: "default" })).rejects.toMatchObject({ code: 403 });
    await expect(asOperator.deleteNamespacedConfigMap({ namespace, name: "page-views-raw-sink-config" })).rejects.toMatchObject({ code: 403 });
    await expect(operatorKc.makeApiClient(k8s.AppsV1Api).deleteNamespacedDeployment({ namespace, name: "page-views-raw-sink" })).rejects.toMatchObject({ code: 403 });
  });
});
