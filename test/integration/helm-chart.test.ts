/**
 * The Helm chart as a user installs it: the real helm binary (built by `make setup`) lints
 * and renders charts/sluice, the testbed's API server accepts every rendered object under
 * strict field validation, and `helm install` creates the operator's Deployment,
 * ServiceAccount and RBAC with the content the values ask for. The testbed has no kubelet,
 * so pods never run: the Pod Security admission plugin judges the pod template instead,
 * and SubjectAccessReviews show what the ServiceAccount is bound to.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as k8s from "@kubernetes/client-node";
import yaml from "js-yaml";
import { KINDS } from "../../api/kinds.js";
import { compileConfig, type OperatorConfigInput } from "../../operator/config.js";
import { binDir, repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { apiErrorMessage, kubeConfig, kubectl } from "../support/kube.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const chartDir = join(repoRoot, "charts", "sluice");
const helmPath = join(binDir, "helm");
const appVersion = (yaml.load(readFileSync(join(chartDir, "Chart.yaml"), "utf8")) as { appVersion: string }).appVersion;
const chartRules = (file: string) => yaml.load(readFileSync(join(chartDir, "rbac", file), "utf8")) as k8s.V1PolicyRule[];
/** The values a user must set; everything else keeps the chart's defaults. */
const REQUIRED = { kafka: { brokers: ["kafka-0.kafka:9092", "kafka-1.kafka:9092"] }, clickhouse: { url: "http://clickhouse.data:8123" } };

// `sluice operator` parses the rendered args for real, but only hands them over: see argsToConfig.
vi.mock("../../cli/operator-command.js", () => ({ operatorCommand: vi.fn() }));

/**
 * The OperatorConfig that `sluice operator <args>` compiles. cli/main.ts parses process.argv
 * when imported, so it is imported afresh with `args` as the command line; the mocked
 * operatorCommand receives what commander parsed instead of starting an operator.
 */
async function argsToConfig(args: string[]) {
  vi.resetModules();
  const argv = process.argv;
  process.argv = ["node", "sluice", ...args];
  try {
    await import("../../cli/main.js");
  } finally {
    process.argv = argv;
  }
  const command = vi.mocked((await import("../../cli/operator-command.js")).operatorCommand);
  const calls = [...command.mock.calls];
  command.mockClear(); // the mock outlives resetModules
  expect(calls).toHaveLength(1);
  return compileConfig(calls[0]![0] as OperatorConfigInput, {});
}

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [field: string]: any };

describe("the Helm chart, rendered and installed by the real helm binary", () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
  // Helm's own config, cache and data stay out of $HOME and vanish with the run.
  const helmHome = mkdtempSync(join(tmpdir(), "sluice-helm-"));
  const namespaces: string[] = [];
  const installed = new Set<string>(); // "namespace/release", uninstalled again by afterAll if a test failed midway

  function runHelm(args: string[]) {
    if (!existsSync(helmPath)) throw new Error(`helm missing in ${binDir}: run \`make setup\` (scripts/setup/helm.sh builds it)`);
    const env = { ...process.env, KUBECONFIG: testbedEnv().kubeconfig, HELM_CONFIG_HOME: join(helmHome, "config"), HELM_CACHE_HOME: join(helmHome, "cache"), HELM_DATA_HOME: join(helmHome, "data") };
    const r = spawnSync(helmPath, args, { encoding: "utf8", env, timeout: 60_000 });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  function helm(args: string[]): string {
    const r = runHelm(args);
    if (r.status !== 0) throw new Error(`helm ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
    return r.stdout;
  }
  function valuesFile(values: object): string {
    const file = join(helmHome, `${randomName("values")}.json`); // JSON is YAML
    writeFileSync(file, JSON.stringify(values));
    return file;
  }
  const render = (release: string, namespace: string, values: object) =>
    yaml.loadAll(helm(["template", release, chartDir, "--namespace", namespace, "-f", valuesFile(values)])).filter(Boolean) as Obj[];
  const kindsOf = (objs: Obj[]) => objs.map((o) => `${o.kind} ${o.metadata.namespace ?? "-"}`).sort();

  async function freshNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
    const name = randomName(prefix);
    await core.createNamespace({ body: { metadata: { name, labels } } });
    namespaces.push(name);
    return name;
  }
  function install(release: string, namespace: string, values: object): void {
    installed.add(`${namespace}/${release}`);
    helm(["install", release, chartDir, "--namespace", namespace, "-f", valuesFile(values)]);
  }
  function uninstall(release: string, namespace: string): void {
    helm(["uninstall", release, "--namespace", namespace]);
    installed.delete(`${namespace}/${release}`);
  }
  /** Whether the ServiceAccount may do `verb` on `resource` in `namespace`, as the API server's authorizer decides. */
  async function may(sa: { namespace: string; name: string }, verb: string, resource: string, namespace: string, attrs: { group?: string; name?: string } = {}) {
    const review = await authz.createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${sa.namespace}:${sa.name}`,
          groups: ["system:serviceaccounts", `system:serviceaccounts:${sa.namespace}`, "system:authenticated"],
          resourceAttributes: { verb, resource, namespace, group: attrs.group ?? "", name: attrs.name },
        },
      },
    });
    return review.status?.allowed === true;
  }
  /** Polls until `read` answers 404; any other error keeps polling until the deadline, then fails. */
  const deleted = (what: string, read: () => Promise<unknown>) =>
    waitFor(`${what} to be deleted`, () => read().then(() => undefined, (err: { code?: number }) => (err.code === 404 ? true : Promise.reject(err))), { timeoutMs: 20_000 });
  /** The cluster-scoped objects of one release, found by Helm's ownership annotations rather than by name. */
  async function clusterRbacOf(release: string, namespace: string) {
    const mine = (o: { metadata?: k8s.V1ObjectMeta }) => o.metadata?.annotations?.["meta.helm.sh/release-namespace"] === namespace;
    const labelSelector = `app.kubernetes.io/instance=${release}`;
    return {
      roles: (await rbac.listClusterRole({ labelSelector })).items.filter(mine),
      bindings: (await rbac.listClusterRoleBinding({ labelSelector })).items.filter(mine),
    };
  }

  beforeAll(async () => {
    expect(helm(["version", "--short"])).toMatch(/^v3\./);
    kubectl(["apply", "--server-side", "--force-conflicts", "-f", join(chartDir, "crds")]);
    kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...KINDS.map((k) => `crd/${k.plural}.sluice.dev`)]);
  });

  afterAll(async () => {
    for (const entry of installed) {
      const [namespace, release] = entry.split("/") as [string, string];
      runHelm(["uninstall", release, "--namespace", namespace]);
    }
    for (const name of namespaces) await core.deleteNamespace({ name }).catch(() => {});
    rmSync(helmHome, { recursive: true, force: true });
  });

  it("passes helm lint --strict with the required values, cluster-wide and per namespace, and with the testbed's values file", () => {
    helm(["lint", "--strict", chartDir, "-f", valuesFile(REQUIRED)]);
    helm(["lint", "--strict", chartDir, "-f", valuesFile({ ...REQUIRED, watchNamespaces: ["team-a", "team-b"] })]);
    const testbedValues = process.env.SLUICE_HELM_VALUES; // written by a testbed with a node
    if (testbedValues) {
      helm(["lint", "--strict", chartDir, "-f", testbedValues]);
      helm(["template", "x", chartDir, "-f", testbedValues]);
    }
  });

  it("fails helm lint, template and install early without kafka.brokers and clickhouse.url, naming both (values.schema.json)", () => {
    for (const args of [["lint", "--strict", chartDir], ["template", "x", chartDir], ["install", randomName("unset"), chartDir, "--namespace", "default"]]) {
      const r = runHelm(args);
      expect(r.status, `helm ${args[0]} without the required values`).not.toBe(0);
      expect(r.stdout + r.stderr).toContain("at '/kafka/brokers': minItems: got 0, want 1");
      expect(r.stdout + r.stderr).toContain("at '/clickhouse/url'");
    }
    expect(runHelm(["list", "--namespace", "default", "--all", "--short"]).stdout).not.toMatch(/^unset-/m);
  });

  it("refuses to render without the values it cannot default, and says which", () => {
    const failure = (values: object) => {
      const r = runHelm(["template", "x", chartDir, "-f", valuesFile(values)]);
      expect(r.status).not.toBe(0);
      return r.stderr;
    };
    expect(failure({})).toContain("at '/kafka/brokers'");
    const noClickHouse = failure({ kafka: REQUIRED.kafka });
    expect(noClickHouse).toContain("at '/clickhouse/url'");
    expect(noClickHouse).not.toContain("/kafka/brokers");
    expect(failure({ ...REQUIRED, leaderElection: { enabled: false } })).toContain("replicas > 1 needs leaderElection.enabled");
  });

  // Each value of the wrong type or shape, and the path helm must name for it.
  const WRONG_VALUES: [string, object, string][] = [
    ["kafka.brokers as one string", { kafka: { brokers: "kafka-0.kafka:9092" } }, "at '/kafka/brokers': got string, want array"],
    ["a broker without a port", { kafka: { brokers: ["kafka-0.kafka"] } }, "at '/kafka/brokers/0'"],
    ["clickhouse.url without a scheme", { clickhouse: { url: "clickhouse.data:8123" } }, "at '/clickhouse/url'"],
    ["a Kafka cluster named default", { kafka: { ...REQUIRED.kafka, clusters: { default: ["k:9092"] } } }, "at '/kafka/clusters'"],
    ["a ClickHouse cluster that is not a URL", { clickhouse: { ...REQUIRED.clickhouse, clusters: { eu: "ch-eu" } } }, "at '/clickhouse/clusters/eu'"],
    ["workers as a string", { workers: "4" }, "at '/workers': got string, want integer"],
    ["metricsPort out of range", { metricsPort: 70000 }, "at '/metricsPort'"],
    ["resync as a number", { resync: 300 }, "at '/resync': got number, want string"],
    ["an autoscaler duration without a unit", { autoscaler: { interval: "5" } }, "at '/autoscaler/interval'"],
    ["leaderElection.enabled as a string", { leaderElection: { enabled: "yes" } }, "at '/leaderElection/enabled': got string, want boolean"],
    ["an unknown pullPolicy", { image: { pullPolicy: "Sometimes" } }, "at '/image/pullPolicy'"],
    ["watchNamespaces as one string", { watchNamespaces: "team-a" }, "at '/watchNamespaces': got string, want array"],
    ["a pod annotation that is a number", { podAnnotations: { "prometheus.io/port": 9090 } }, "at '/podAnnotations/prometheus.io~1port': got number, want string"],
  ];
  it.each(WRONG_VALUES)("refuses %s, naming the value", (_, wrong, message) => {
    const values = { ...REQUIRED, ...wrong };
    const r = runHelm(["template", "x", chartDir, "-f", valuesFile(values)]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it("accepts top-level keys it does not know, for optional features (the schema's top level stays open)", () => {
    expect(render("x", "default", { ...REQUIRED, someFutureFeature: { enabled: true } }).length).toBeGreaterThan(0);
  });

  it("renders cluster-wide RBAC when watchNamespaces is empty: the ClusterRole holds rbac/operator-rules.yaml", () => {
    const objs = render("sluice", "ops", REQUIRED);
    expect(kindsOf(objs)).toEqual(["ClusterRole -", "ClusterRoleBinding -", "Deployment ops", "Role ops", "RoleBinding ops", "ServiceAccount ops"]);
    expect(objs.find((o) => o.kind === "ClusterRole")!.rules).toEqual(chartRules("operator-rules.yaml"));
    // The file's rules, for the release's own Lease ("sluice": the release's full name).
    const leaseRules = chartRules("leader-election-rules.yaml").map((r) => (r.resourceNames ? { ...r, resourceNames: ["sluice"] } : r));
    expect(objs.find((o) => o.kind === "Role")!.rules).toEqual(leaseRules);
    expect(objs.find((o) => o.kind === "ClusterRoleBinding")!.subjects).toEqual([{ kind: "ServiceAccount", name: "sluice", namespace: "ops" }]);
  });

  it("renders one Role and RoleBinding per watched namespace, a repeated one once, and cluster-wide only the cleanup rules", () => {
    const objs = render("pipelines", "ops", { ...REQUIRED, watchNamespaces: ["team-a", "team-b", "team-a"] });
    expect(kindsOf(objs)).toEqual(["ClusterRole -", "ClusterRoleBinding -", "Deployment ops", "Role ops", "Role team-a", "Role team-b", "RoleBinding ops", "RoleBinding team-a", "RoleBinding team-b", "ServiceAccount ops"]);
    // What must outlive a deleted namespace's Role: Sluice's own kinds and reading namespaces.
    expect(objs.find((o) => o.kind === "ClusterRole")!.rules).toEqual(chartRules("cleanup-rules.yaml"));
    expect(objs.find((o) => o.kind === "ClusterRoleBinding")!.subjects).toEqual([{ kind: "ServiceAccount", name: "pipelines-sluice", namespace: "ops" }]);
    for (const o of objs.filter((o) => o.kind === "Role" && o.metadata.namespace !== "ops")) expect(o.rules).toEqual(chartRules("operator-rules.yaml"));
    for (const o of objs.filter((o) => o.kind === "RoleBinding")) expect(o.subjects).toEqual([{ kind: "ServiceAccount", name: "pipelines-sluice", namespace: "ops" }]);
  });

  it("renders flags that `sluice operator` compiles into the configuration the values describe", async () => {
    const configFrom = (values: object) => argsToConfig(render("sluice", "ops", values).find((o) => o.kind === "Deployment")!.spec.template.spec.containers[0].args);
    expect(await configFrom(REQUIRED)).toMatchObject({
      kafkaBrokers: REQUIRED.kafka.brokers,
      clickhouseUrl: REQUIRED.clickhouse.url,
      workerImage: `ghcr.io/sluice-dev/sluice:${appVersion}`,
      namespaces: [],
      resyncPeriodMs: 300_000,
      workers: 4,
      leaderElection: { enabled: true, leaseName: "sluice" },
    });
    const tuned = { ...REQUIRED, watchNamespaces: ["team-a", "team-b"], workerImage: "registry.local/sluice:dev", resync: "30s", workers: 2, replicas: 1, leaderElection: { enabled: false } };
    expect(await configFrom(tuned)).toMatchObject({
      namespaces: ["team-a", "team-b"],
      workerImage: "registry.local/sluice:dev",
      resyncPeriodMs: 30_000,
      workers: 2,
      leaderElection: { enabled: false },
    });
    const clustered = { ...REQUIRED, kafka: { ...REQUIRED.kafka, clusters: { eu: ["eu-0:9092", "eu-1:9092"], us: ["us-0:9092"] } }, clickhouse: { ...REQUIRED.clickhouse, clusters: { analytics: "http://an:8123" } } };
    expect(await configFrom(clustered)).toMatchObject({
      kafkaClusters: { default: REQUIRED.kafka.brokers, eu: ["eu-0:9092", "eu-1:9092"], us: ["us-0:9092"] },
      clickhouseClusters: { default: REQUIRED.clickhouse.url, analytics: "http://an:8123" },
    });
  });

  it("gives two releases in one namespace a Lease each, and each Role the right to its own Lease only", async () => {
    for (const release of ["team-a", "team-b"]) {
      const objects = render(release, "ops", REQUIRED);
      const config = await argsToConfig(objects.find((o) => o.kind === "Deployment")!.spec.template.spec.containers[0].args);
      expect(config.leaderElection.leaseName).toBe(`${release}-sluice`);
      const role = objects.find((o) => o.kind === "Role" && o.metadata.name.endsWith("-leader-election"))!;
      expect(role.rules.filter((r: { resourceNames?: string[] }) => r.resourceNames)).toEqual([
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: [`${release}-sluice`], verbs: ["get", "update"] },
      ]);
    }
  });

  it("renders objects, CRDs included, that the API server accepts under strict field validation", async () => {
    const release = await freshNamespace("chart-dry");
    const watched = [await freshNamespace("chart-dry-w"), await freshNamespace("chart-dry-w")];
    for (const values of [REQUIRED, { ...REQUIRED, watchNamespaces: watched }]) {
      const manifest = helm(["template", "sluice", chartDir, "--include-crds", "--namespace", release, "-f", valuesFile(values)]);
      const out = kubectl(["apply", "--server-side", "--dry-run=server", "--validate=strict", "--force-conflicts", "--field-manager=sluice-chart-test", "-f", "-"], manifest);
      expect(out.trim().split("\n").length).toBe((yaml.loadAll(manifest).filter(Boolean) as Obj[]).length);
    }
  });

  it("installs into a fresh namespace: a restricted Deployment running as its ServiceAccount, bound to a ClusterRole", async () => {
    const namespace = await freshNamespace("chart-install", { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" });
    const release = randomName("sluice"); // contains the chart's name: the full name is the release name
    install(release, namespace, REQUIRED);
    const sa = { namespace, name: release };

    await core.readNamespacedServiceAccount({ namespace, name: sa.name });
    const deployment = await apps.readNamespacedDeployment({ namespace, name: release });
    expect(deployment.spec?.replicas).toBe(2);
    const pod = deployment.spec!.template.spec!;
    expect(pod.serviceAccountName).toBe(sa.name);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    const [container] = pod.containers;
    expect(container!.image).toBe(`ghcr.io/sluice-dev/sluice:${appVersion}`);
    expect(container!.args).toEqual([
      "operator",
      `--kafka=${REQUIRED.kafka.brokers.join(",")}`,
      `--clickhouse=${REQUIRED.clickhouse.url}`,
      `--worker-image=ghcr.io/sluice-dev/sluice:${appVersion}`,
      "--resync=5m",
      "--autoscale-interval=5s",
      "--autoscale-lookback=30s",
      "--autoscale-settle-timeout=2m",
      "--workers=4",
      "--metrics-port=9090",
      `--leader-election-id=${release}`,
    ]);
    expect(container!.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    // A read-only root needs a writable /tmp: tsx exits at start-up without its compile cache.
    const tmp = container!.volumeMounts?.find((m) => m.mountPath === "/tmp");
    expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();

    // The pod the ReplicaSet would create passes the "restricted" Pod Security level, and the
    // plugin is really judging: the same pod without its securityContext is refused.
    const podOf = (spec: k8s.V1PodSpec) => ({ metadata: { name: randomName("operator-pod") }, spec });
    await core.createNamespacedPod({ namespace, body: podOf(pod), dryRun: "All" });
    const lax = { ...pod, securityContext: undefined, containers: pod.containers.map((c) => ({ ...c, securityContext: undefined })) };
    const refused = await core.createNamespacedPod({ namespace, body: podOf(lax), dryRun: "All" }).then(() => "accepted", apiErrorMessage);
    expect(refused).toContain('violates PodSecurity "restricted:latest"');

    const { roles, bindings } = await clusterRbacOf(release, namespace);
    expect(roles.map((r) => r.rules)).toEqual([chartRules("operator-rules.yaml")]);
    expect(bindings.map((b) => [b.roleRef.name, b.subjects])).toEqual([[roles[0]!.metadata!.name, [{ kind: "ServiceAccount", name: sa.name, namespace }]]]);
    const elsewhere = randomName("any-namespace");
    expect(await may(sa, "watch", "eventstreams", elsewhere, { group: "sluice.dev" })).toBe(true);
    expect(await may(sa, "patch", "deployments", elsewhere, { group: "apps" })).toBe(true);
    expect(await may(sa, "get", "secrets", elsewhere)).toBe(false);
    // Its own Lease (named after the release), in its own namespace, and no other.
    expect(await may(sa, "update", "leases", namespace, { group: "coordination.k8s.io", name: release })).toBe(true);
    expect(await may(sa, "update", "leases", namespace, { group: "coordination.k8s.io", name: "sluice-operator" })).toBe(false);
    expect(await may(sa, "update", "leases", elsewhere, { group: "coordination.k8s.io", name: release })).toBe(false);

    uninstall(release, namespace);
    await deleted("the Deployment", () => apps.readNamespacedDeployment({ namespace, name: release }));
    await deleted("the ClusterRole", () => rbac.readClusterRole({ name: roles[0]!.metadata!.name! }));
    await deleted("the ClusterRoleBinding", () => rbac.readClusterRoleBinding({ name: bindings[0]!.metadata!.name! }));
  });

  it("installs two releases of the same name in two namespaces, each with its own ClusterRole", async () => {
    const release = randomName("ops"); // without the chart's name: the full name is <release>-sluice
    const first = await freshNamespace("chart-twin");
    const second = await freshNamespace("chart-twin");
    install(release, first, REQUIRED);
    install(release, second, REQUIRED);
    for (const namespace of [first, second]) {
      const { roles, bindings } = await clusterRbacOf(release, namespace);
      expect(roles).toHaveLength(1);
      expect(bindings.map((b) => b.subjects)).toEqual([[{ kind: "ServiceAccount", name: `${release}-sluice`, namespace }]]);
    }
    for (const namespace of [first, second]) uninstall(release, namespace);
    await waitFor("both releases' cluster-scoped RBAC to be deleted", async () => {
      const left = [await clusterRbacOf(release, first), await clusterRbacOf(release, second)].flatMap((r) => [...r.roles, ...r.bindings]);
      return left.length === 0 ? true : undefined;
    }, { timeoutMs: 20_000 });
  });

  it("installs per namespace: Roles in the watched namespaces, cluster-wide only the cleanup rules, and uninstalls cleanly", async () => {
    const namespace = await freshNamespace("chart-ns");
    const watched = [await freshNamespace("chart-ns-w"), await freshNamespace("chart-ns-w")];
    const release = randomName("rel");
    const fullName = `${release}-sluice`;
    install(release, namespace, { ...REQUIRED, watchNamespaces: watched, image: { tag: "dev" }, workers: 2 });
    const sa = { namespace, name: fullName };

    const deployment = await apps.readNamespacedDeployment({ namespace, name: fullName });
    const [container] = deployment.spec!.template.spec!.containers;
    expect(container!.image).toBe("ghcr.io/sluice-dev/sluice:dev");
    expect(container!.args).toEqual(expect.arrayContaining(["--worker-image=ghcr.io/sluice-dev/sluice:dev", "--workers=2", ...watched.map((n) => `--namespace=${n}`)]));
    for (const ns of watched) {
      expect((await rbac.readNamespacedRole({ namespace: ns, name: fullName })).rules).toEqual(chartRules("operator-rules.yaml"));
      const binding = await rbac.readNamespacedRoleBinding({ namespace: ns, name: fullName });
      expect([binding.roleRef.kind, binding.roleRef.name, binding.subjects]).toEqual(["Role", fullName, [{ kind: "ServiceAccount", name: fullName, namespace }]]);
    }
    // Cluster-wide, only what must outlive a watched namespace's Role when that namespace
    // is deleted: Sluice's own kinds (to release finalizers) and reading namespaces.
    const cluster = await clusterRbacOf(release, namespace);
    expect(cluster.roles.map((r) => r.rules)).toEqual([chartRules("cleanup-rules.yaml")]);
    expect(cluster.bindings.map((b) => b.subjects)).toEqual([[{ kind: "ServiceAccount", name: fullName, namespace }]]);
    expect(await may(sa, "watch", "eventstreams", watched[0]!, { group: "sluice.dev" })).toBe(true);
    expect(await may(sa, "create", "configmaps", watched[1]!)).toBe(true);
    // Outside the watched namespaces: no workloads, no config, no Events.
    const elsewhere = randomName("any-namespace");
    for (const [verb, resource, group] of [["create", "configmaps", ""], ["patch", "deployments", "apps"], ["create", "events", ""], ["get", "secrets", ""]] as const) {
      expect(await may(sa, verb, resource, elsewhere, { group })).toBe(false);
      expect(await may(sa, verb, resource, namespace, { group })).toBe(false);
    }
    expect(await may(sa, "create", "leases", namespace, { group: "coordination.k8s.io" })).toBe(true);

    uninstall(release, namespace);
    for (const ns of watched) {
      await deleted(`the Role in ${ns}`, () => rbac.readNamespacedRole({ namespace: ns, name: fullName }));
      await deleted(`the RoleBinding in ${ns}`, () => rbac.readNamespacedRoleBinding({ namespace: ns, name: fullName }));
    }
    await deleted("the ServiceAccount", () => core.readNamespacedServiceAccount({ namespace, name: fullName }));
    await waitFor("no cluster-wide RBAC left", async () => {
      const left = await clusterRbacOf(release, namespace);
      return left.roles.length + left.bindings.length === 0 ? true : undefined;
    }, { timeoutMs: 30_000 });
  });
});
