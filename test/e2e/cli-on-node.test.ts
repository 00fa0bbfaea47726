/**
 * The day-two CLI against a cluster, as an operator of the pipeline uses it: the chart and
 * the clickstream example installed on the testbed's real node, then `sluice send`
 * (generated events, through the collector Service), `sluice lag` and `sluice top` reading
 * the namespace's resources from the API server, and a replay after `kubectl scale` stops
 * the sink: refused while its pod runs, done once it is gone, and re-read by the pod that
 * `spec.scaling` brings back, with every event still in the table once.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { createClient } from "@clickhouse/client";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { kubeConfig, kubectl } from "../support/kube.js";
import { clickstreamExample, hasNode, helm, nodeEnv, pods, removeReleaseAndPipeline, waitForReadyPods } from "../support/node.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const sluice = join(repoRoot, "bin", "sluice.js");
const examples = join(repoRoot, "examples", "clickstream");
// A spawned CLI compiles its sources through tsx and talks to Kafka and the API server.
const SPAWN_BUDGET_MS = 90_000;
const sel = (name: string, instance: string) => `app.kubernetes.io/name=${name},app.kubernetes.io/instance=${instance}`;
const SINK = sel("sluice-sink", "page-views-raw");
const EVENTS = 2_000;

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(sluice, args, { encoding: "utf8", timeout: SPAWN_BUDGET_MS, env: { ...process.env, KUBECONFIG: testbedEnv().kubeconfig, KAFKA_BROKERS: testbedEnv().kafkaBrokers.join(",") } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ code, stdout, stderr: err?.killed ? `${stderr}\n(killed after ${SPAWN_BUDGET_MS} ms)` : stderr });
    });
  });
}

if (!hasNode) console.warn("[cli-on-node] skipped: the testbed runs without a node (SLUICE_TESTBED_NODE=0)");

describe.skipIf(!hasNode)("the sluice CLI against a cluster on the real node", () => {
  const env = testbedEnv();
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const system = randomName("sluice-cli");
  const ns = randomName("cli");
  const release = randomName("cli");
  const database = `e2e_${ns.replaceAll("-", "_")}`;
  const example = clickstreamExample(database);
  for (const o of example.objects) {
    if (o.kind === "EventStream") o.spec.ingest.scaling = { minReplicas: 1, maxReplicas: 1 };
    if (o.kind === "Sink" || o.kind === "Aggregation") o.spec.scaling = { ...o.spec.scaling, minReplicas: 1, maxReplicas: 1 };
  }
  const groupId = `sluice.${ns}.sink.page-views-raw`;
  const admin = kafkaClient(env.kafkaBrokers, "cli-on-node").admin();
  const ch = createClient({ url: env.clickhouseUrl });
  const counts = async () => {
    const rows = (await (await ch.query({ query: `SELECT count() AS n, uniqExact(event_id) AS ids FROM ${database}.page_views FINAL`, format: "JSONEachRow" })).json()) as { n: string; ids: string }[];
    return { rows: Number(rows[0]!.n), ids: Number(rows[0]!.ids) };
  };
  let collectorUrl = "";

  beforeAll(async () => {
    const { helmValues } = nodeEnv();
    for (const name of [system, ns]) await core.createNamespace({ body: { metadata: { name } } });
    helm(["install", release, join(repoRoot, "charts", "sluice"), "-n", system, "-f", helmValues, "--set", `watchNamespaces[0]=${ns}`, "--set", "replicas=1", "--set", "autoscaler.interval=2s", "--wait", "--timeout", "3m"]);
    kubectl(["-n", ns, "apply", "-f", "-"], example.objects.map((o) => JSON.stringify(o)).join("\n"));
    await Promise.all([
      waitForReadyPods(core, ns, sel("sluice-collector", "page-views"), 1, 240_000),
      waitForReadyPods(core, ns, SINK, 1, 240_000),
      waitForReadyPods(core, ns, sel("sluice-aggregation", "active-users-per-minute"), 1, 240_000),
    ]);
    const svc = await core.readNamespacedService({ name: "page-views-collector", namespace: ns });
    collectorUrl = `http://${svc.spec!.clusterIP}`;
    await admin.connect();
  }, 420_000);

  afterAll(async () => {
    await admin.disconnect().catch(() => {});
    await removeReleaseAndPipeline(core, { pipelineNamespace: ns, release, releaseNamespace: system });
    await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
    await ch.close();
  }, 300_000);

  it("sends generated events through the collector Service, and lag and top read the namespace from the API server", async () => {
    const sent = await runCli(["send", "page-views", "--generate", String(EVENTS), "--rate", "500", "-f", examples, "-n", ns, "--tenant", "shop-a", "--url", collectorUrl, "-o", "json"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ sent: EVENTS, accepted: EVENTS, rejected: [], undelivered: [] });
    await waitFor(`${EVENTS} events in the sink's table`, async () => ((await counts()).ids === EVENTS ? true : undefined), { timeoutMs: 120_000, intervalMs: 1_000 });

    // No -f, no --group: the Sinks and Aggregations of namespace ns, from the API server.
    const lag = await waitFor("the sink's lag at 0 in sluice lag", async () => {
      const run = await runCli(["lag", "-n", ns, "--no-seconds", "-o", "json"]);
      expect(run.code, run.stderr).toBe(0);
      const groups = (JSON.parse(run.stdout) as { groups: { kind: string; name: string; groupId: string; members: unknown[]; lag: { messages: number } }[] }).groups;
      const sink = groups.find((g) => g.kind === "Sink");
      return sink && sink.lag.messages === 0 ? groups : undefined;
    }, { timeoutMs: 90_000, intervalMs: 2_000 });
    expect(lag.map((g) => `${g.kind}/${g.name}`).sort()).toEqual(["Aggregation/active-users-per-minute", "Sink/page-views-raw"]);
    expect(lag.find((g) => g.kind === "Sink")).toMatchObject({ groupId, members: [expect.anything()] });

    const sinkPod = (await pods(core, ns, SINK))[0]!;
    type Row = { kind: string; name: string; lagMessages: number | null; replicas: { current: number | null; desired: number | null } | null };
    // Replicas come from each resource's status, which the operator writes at its next autoscale interval.
    const pipelines = await waitFor("sluice top showing both pipelines with their replicas", async () => {
      const top = await runCli(["top", "-n", ns, "--once", "-o", "json", "--interval", "1s", "--metrics", `${sinkPod.status!.podIP}:8080`]);
      expect(top.code, top.stderr).toBe(0);
      const rows = (JSON.parse(top.stdout) as { streams: { name: string; pipelines: Row[] }[] }).streams.find((s) => s.name === "page-views")?.pipelines ?? [];
      return rows.length === 2 && rows.every((r) => r.replicas?.current === 1) ? rows : undefined;
    }, { timeoutMs: 4 * SPAWN_BUDGET_MS, intervalMs: 2_000 });
    expect(pipelines.find((p) => p.kind === "Sink")).toMatchObject({ name: "page-views-raw", lagMessages: 0 });
    expect(pipelines.find((p) => p.kind === "Aggregation")).toMatchObject({ name: "active-users-per-minute" });
  }, 10 * SPAWN_BUDGET_MS);

  it("replays the sink from the start once kubectl scale stopped it, and every event is still in the table once", async () => {
    const refused = await runCli(["replay", "page-views-raw", "-n", ns, "--from", "earliest", "--no-wait"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`kubectl scale sink/page-views-raw -n ${ns} --replicas=0`);

    kubectl(["-n", ns, "scale", "sink/page-views-raw", "--replicas=0"]);
    await waitFor("the sink's pods gone and its group empty", async () => {
      if ((await pods(core, ns, SINK)).length > 0) return undefined;
      return (await admin.describeGroup(groupId)).members === 0 ? true : undefined;
    }, { timeoutMs: 120_000, intervalMs: 1_000 });

    const dry = await runCli(["replay", "page-views-raw", "-n", ns, "--from", "earliest", "--dry-run", "-o", "json"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ kind: "Sink", groupId, dryRun: true, reset: false, refusals: [], totals: { reRead: EVENTS, skipped: 0 } });
    const replay = await runCli(["replay", "page-views-raw", "-n", ns, "--from", "earliest", "--no-wait"]);
    expect(replay.code, replay.stderr).toBe(0);
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [`${ns}.page-views`] });
    expect(offsets!.partitions.every((p) => Number(p.offset) <= 0)).toBe(true);

    // Scaling back to the resource's own spec: the lag autoscaler owns the count again.
    kubectl(["-n", ns, "patch", "sinks.sluice.dev", "page-views-raw", "--type=json", "-p", JSON.stringify([{ op: "remove", path: "/spec/scaling/replicas" }])]);
    const [pod] = await waitForReadyPods(core, ns, SINK, 1, 240_000);
    // The new pod re-writes every event (its counter starts at 0), and the table still has each once.
    await waitFor("the new sink pod re-wrote every event", async () => {
      const text = await fetch(`http://${pod!.status!.podIP}:8080/metrics`).then((r) => r.text(), () => "");
      const written = text.split("\n").filter((l) => l.startsWith("sluice_sink_rows_written_total")).reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
      return written >= EVENTS ? true : undefined;
    }, { timeoutMs: 180_000, intervalMs: 2_000 });
    expect(await counts()).toEqual({ rows: EVENTS, ids: EVENTS });
  }, 8 * SPAWN_BUDGET_MS);
});
