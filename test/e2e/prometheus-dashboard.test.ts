/**
 * The monitoring a user gets, checked against a real Prometheus: the chart installed on the
 * testbed's node, the clickstream example as pods, load through the collector (a few
 * events invalid) and poison records straight into the topic. Prometheus finds the pods by
 * their prometheus.io annotations (testbed/prometheus-targets.ts writes them as file_sd
 * targets), so every Sluice pod must be a target that is up, with job = its
 * app.kubernetes.io/name as the alert rules expect; and every query of the Grafana dashboard
 * (charts/sluice/files/grafana-dashboard.json) must answer with plausible values.
 *
 * Uses the testbed's Prometheus (SLUICE_PROMETHEUS_URL); a testbed started before it had one
 * gets a private Prometheus for the run.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { createClient } from "@clickhouse/client";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { clickEvent, runLoad } from "../../testbed/load-generator.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { startPrometheus } from "../../testbed/prometheus.js";
import { refreshPodTargets } from "../../testbed/prometheus-targets.js";
import type { ServerHandle } from "../../testbed/server-process.js";
import { dashboardQueries, type Dashboard } from "../support/dashboard.js";
import { kubeConfig, kubectl } from "../support/kube.js";
import { clickstreamExample, hasNode, helm, nodeEnv, removeReleaseAndPipeline, waitForReadyPods } from "../support/node.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const restricted = { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" };
const sel = (name: string, instance: string) => `app.kubernetes.io/name=${name},app.kubernetes.io/instance=${instance}`;
const dashboard = JSON.parse(readFileSync(join(repoRoot, "charts", "sluice", "files", "grafana-dashboard.json"), "utf8")) as Dashboard;
/** What Grafana would put for $__rate_interval: several 2 s scrapes, and a few poison records. */
const RATE_INTERVAL = "1m";

type Sample = { metric: Record<string, string>; value: [number, string] };

async function instant(prometheus: string, query: string): Promise<Sample[]> {
  const res = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Sample[] } };
  if (body.status !== "success") throw new Error(`${query}: ${body.error}`);
  if (body.data!.resultType !== "vector") throw new Error(`${query}: a ${body.data!.resultType}, not a vector`);
  return body.data!.result;
}

/** Why the answer to a panel's query is not plausible, or undefined when it is. */
function implausible(samples: Sample[], mustBePositive: boolean): string | undefined {
  if (samples.length === 0) return "no series";
  const values = samples.map((s) => Number(s.value[1]));
  if (values.some((v) => !Number.isFinite(v))) return `not finite: ${values.join(", ")}`;
  if (values.some((v) => v < 0)) return `negative: ${values.join(", ")}`;
  if (mustBePositive && !values.some((v) => v > 0)) return `all 0 while load runs: ${values.join(", ")}`;
  return undefined;
}

const show = (samples: Sample[]) => samples.map((s) => `${JSON.stringify(s.metric)}=${s.value[1]}`).join("; ");

if (!hasNode) console.warn("[prometheus-dashboard] skipped: the testbed runs without a node (SLUICE_TESTBED_NODE=0)");

describe.skipIf(!hasNode)("Prometheus scrapes every Sluice pod, and every dashboard query answers", () => {
  const env = testbedEnv();
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const system = randomName("sluice-prom");
  const ns = randomName("prom");
  const release = randomName("sluice");
  const database = `e2e_${ns.replaceAll("-", "_")}`;
  const example = clickstreamExample(database);
  // One pod per component: two cores, and this test is about what they export.
  for (const o of example.objects) {
    if (o.kind === "EventStream") o.spec.ingest.scaling = { minReplicas: 1, maxReplicas: 1 };
    if (o.kind === "Sink" || o.kind === "Aggregation") o.spec.scaling = { ...o.spec.scaling, minReplicas: 1, maxReplicas: 1 };
  }
  let prometheus = "";
  let privateDir: string | undefined;
  let privateServer: ServerHandle | undefined;
  let refresher: { stop: () => void } | undefined;
  let stopLoad: (() => Promise<void>) | undefined;
  const sent = { accepted: 0, rejected: 0, poison: 0 };

  beforeAll(async () => {
    let targetsDir = process.env.SLUICE_PROMETHEUS_TARGETS;
    if (process.env.SLUICE_PROMETHEUS_URL && targetsDir) {
      prometheus = process.env.SLUICE_PROMETHEUS_URL;
    } else {
      privateDir = mkdtempSync(join(tmpdir(), "sluice-prometheus-e2e-"));
      const p = await startPrometheus({ dir: privateDir, logDir: process.env.SLUICE_TESTBED_LOGS ?? privateDir, name: "prometheus-e2e" });
      [prometheus, targetsDir, privateServer] = [p.url, p.targetsDir, p.servers[0]];
      console.log(`[prometheus-dashboard] the testbed has no Prometheus; started one at ${prometheus}`);
    }
    // The testbed refreshes the targets too; this keeps a test run independent of that.
    refresher = refreshPodTargets(kc, targetsDir!);

    const { helmValues } = nodeEnv();
    for (const name of [system, ns]) await core.createNamespace({ body: { metadata: { name, labels: restricted } } });
    helm([
      "install", release, join(repoRoot, "charts", "sluice"), "-n", system, "-f", helmValues,
      "--set", `watchNamespaces[0]=${ns}`, "--set", "resync=30s", "--wait", "--timeout", "3m",
    ]);
    kubectl(["-n", ns, "apply", "-f", "-"], example.objects.map((o) => JSON.stringify(o)).join("\n"));
    await Promise.all([
      waitForReadyPods(core, system, sel("sluice-operator", release), 2),
      waitForReadyPods(core, ns, sel("sluice-collector", "page-views"), 1, 240_000),
      waitForReadyPods(core, ns, sel("sluice-sink", "page-views-raw"), 1, 240_000),
      waitForReadyPods(core, ns, sel("sluice-aggregation", "active-users-per-minute"), 1, 240_000),
    ]);
  }, 420_000);

  afterAll(async () => {
    await stopLoad?.();
    refresher?.stop();
    await removeReleaseAndPipeline(core, { pipelineNamespace: ns, release, releaseNamespace: system });
    const ch = createClient({ url: env.clickhouseUrl });
    await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
    await ch.close();
    await privateServer?.stop();
    if (privateDir) rmSync(privateDir, { recursive: true, force: true });
  }, 300_000);

  it("every operator, collector, sink and aggregation pod is a target with up == 1 and job = its app.kubernetes.io/name", async () => {
    const expected = new Map<string, string>();
    for (const namespace of [system, ns]) {
      for (const p of (await core.listNamespacedPod({ namespace })).items) expected.set(`${namespace}/${p.metadata!.name}`, p.metadata!.labels!["app.kubernetes.io/name"]!);
    }
    expect([...new Set(expected.values())].sort()).toEqual(["sluice-aggregation", "sluice-collector", "sluice-operator", "sluice-sink"]);
    let last: Sample[] = [];
    const up = await waitFor("every Sluice pod scraped, up == 1", async () => {
      last = await instant(prometheus, `up{namespace=~"${system}|${ns}"}`);
      const byPod = new Map(last.map((s) => [`${s.metric.namespace}/${s.metric.pod}`, s]));
      return [...expected.keys()].every((k) => byPod.get(k)?.value[1] === "1") ? last : undefined;
    }, { timeoutMs: 120_000, intervalMs: 2_000 }).catch((err: Error) => {
      throw new Error(`${err.message}\nexpected ${[...expected.keys()].join(", ")}\nup now: ${show(last)}`);
    });
    for (const s of up) {
      console.log(`[prometheus-dashboard] up{job="${s.metric.job}", namespace="${s.metric.namespace}", pod="${s.metric.pod}", instance="${s.metric.instance}"} = ${s.value[1]}`);
      expect(s.metric.job).toBe(expected.get(`${s.metric.namespace}/${s.metric.pod}`));
    }
    expect(up).toHaveLength(expected.size);
    // The alert rules' default worker selector finds the workers' up series.
    const workers = await instant(prometheus, `up{job=~"sluice-(collector|sink|aggregation)", namespace="${ns}"}`);
    expect(workers.map((s) => s.metric.job).sort()).toEqual(["sluice-aggregation", "sluice-collector", "sluice-sink"]);
  }, 180_000);

  it("every panel's query returns finite, non-negative values; rates are above 0 under load", async () => {
    const svc = await core.readNamespacedService({ name: "page-views-collector", namespace: ns });
    stopLoad = startLoad(`http://${svc.spec!.clusterIP}:80`, `${ns}.page-views`);
    const queries = dashboardQueries(dashboard).map((q) => ({ ...q, promql: q.substituted({ namespace: ns, rateInterval: RATE_INTERVAL }) }));
    // A rate of what the load drives is above 0; reconcile errors may well be 0.
    const mustBePositive = (promql: string) => promql.includes("rate(") && !promql.includes("sluice_operator_reconcile_total");
    const last = new Map<string, { samples: Sample[]; problem?: string }>();
    await waitFor("every dashboard query answered plausibly", async () => {
      for (const q of queries) {
        const key = `${q.panel} ${q.refId}`;
        if (last.get(key) && last.get(key)!.problem === undefined) continue;
        const samples = await instant(prometheus, q.promql);
        last.set(key, { samples, problem: implausible(samples, mustBePositive(q.promql)) });
      }
      return [...last.values()].every((r) => r.problem === undefined) && last.size === queries.length ? true : undefined;
    }, { timeoutMs: 300_000, intervalMs: 3_000 }).catch((err: Error) => {
      const failing = queries.filter((q) => last.get(`${q.panel} ${q.refId}`)?.problem !== undefined);
      throw new Error(`${err.message}; sent ${JSON.stringify(sent)}\n${failing.map((q) => `${q.panel} ${q.refId}: ${q.promql}\n  -> ${last.get(`${q.panel} ${q.refId}`)!.problem}`).join("\n")}`);
    });
    for (const q of queries) console.log(`[prometheus-dashboard] ${q.panel} ${q.refId}: ${q.promql}\n  = ${show(last.get(`${q.panel} ${q.refId}`)!.samples)}`);
    console.log(`[prometheus-dashboard] sent ${JSON.stringify(sent)}`);
    // The namespace variable offers the pipeline's namespace.
    const variable = String(dashboard.templating.list.find((v) => v.name === "namespace")!.query);
    const match = /^label_values\((.*), namespace\)$/.exec(variable)![1]!;
    const res = (await (await fetch(`${prometheus}/api/v1/label/namespace/values?${new URLSearchParams({ "match[]": match })}`)).json()) as { data: string[] };
    expect(res.data).toContain(ns);
  }, 420_000);

  /**
   * Load until stopped: events through the collector, 2% of them schema-invalid (refused
   * there), and every 3 s two poison records written straight to the topic, which the sink
   * and the aggregation dead-letter.
   */
  function startLoad(collectorUrl: string, topic: string): () => Promise<void> {
    let stopping = false;
    const http = (async () => {
      while (!stopping) {
        try {
          const r = await runLoad({ url: collectorUrl, stream: "page-views", tenants: example.tenants, events: 400, perRequest: 50, concurrency: 2, ratePerSecond: 200, invalidFraction: 0.02 });
          sent.accepted += r.accepted.size;
          sent.rejected += r.rejectedEvents;
        } catch (err) {
          console.warn(`[prometheus-dashboard] load: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
    })();
    const poison = (async () => {
      const producer = kafkaClient(env.kafkaBrokers, "prometheus-dashboard-poison").producer();
      await producer.connect();
      try {
        for (let i = 0; !stopping; i++) {
          await producer.send({ topic, messages: [
            { key: `poison-${i}`, value: `{"event_id": "poison-${i}", oops` },
            { key: `poison-${i}b`, value: JSON.stringify({ ...clickEvent(i, "shop-a"), event_time: "yesterday" }) },
          ] });
          sent.poison += 2;
          for (let t = 0; t < 30 && !stopping; t++) await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await producer.disconnect();
      }
    })();
    return async () => {
      stopping = true;
      await Promise.allSettled([http, poison]);
    };
  }
});
