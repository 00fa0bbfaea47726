/**
 * The lag autoscaler in a closed loop on the real node: the chart's operator, a Sink on a
 * 12-partition stream (min 1, max 12), and workers as real pods whose CPU limit bounds
 * what one replica works off, as it would on a cluster's nodes. Events go straight into
 * the topic at a stepped rate (steady, step up, spike, drop) while each second's incoming
 * and consumed rates, lag, desired replicas and Ready pods are recorded. The run must scale
 * up on the spike, back down after the drop, never past the partitions or to an uneven
 * split, and the oracle must find every acknowledged event exactly once across every scale
 * event and rebalance. The timeline is written as CSV and PNG (results/ of the testbed).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { oracle } from "../../testbed/oracle.js";
import { rowsToCsv, runAutoscaleStudy, studyFigures, type Phase } from "../../testbed/autoscale-study.js";
import { timelinePng } from "../../testbed/timeline-chart.js";
import { kubeConfig, kubectl } from "../support/kube.js";
import { clickstreamExample, hasNode, helm, nodeEnv, waitForReadyPods } from "../support/node.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const SINK = "app.kubernetes.io/name=sluice-sink,app.kubernetes.io/instance=page-views-raw";
const TARGET_LAG_SECONDS = 5;
const PHASES: Phase[] = [
  { name: "steady", seconds: 30, eventsPerSecond: 300 },
  { name: "step up", seconds: 40, eventsPerSecond: 1_500 },
  { name: "spike", seconds: 30, eventsPerSecond: 4_000 },
  { name: "drop", seconds: 60, eventsPerSecond: 100 },
];
const resultsDir = process.env.SLUICE_RESULTS_DIR ?? join(repoRoot, ".testbed", "results");

describe.skipIf(!hasNode)("the lag autoscaler in a closed loop on real pods", () => {
  const env = testbedEnv();
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const system = randomName("sluice-loop-system");
  const ns = randomName("loop");
  const release = randomName("loop");
  const database = `e2e_${ns.replaceAll("-", "_")}`;
  const table = `${database}.page_views`;

  beforeAll(async () => {
    const { helmValues } = nodeEnv();
    for (const name of [system, ns]) await core.createNamespace({ body: { metadata: { name } } });
    helm([
      "install", release, join(repoRoot, "charts", "sluice"), "-n", system, "-f", helmValues,
      "--set", `watchNamespaces[0]=${ns}`, "--set", "replicas=1",
      "--set", "autoscaler.interval=2s", "--set", "autoscaler.lookback=10s", "--set", "autoscaler.settleTimeout=60s",
      "--wait", "--timeout", "3m",
    ]);
    const example = clickstreamExample(database);
    const objects = example.objects.filter((o) => o.kind === "EventStream" || o.kind === "Sink");
    for (const o of objects) {
      if (o.kind === "EventStream") {
        o.spec.ingest = { enabled: false }; // events go straight to the topic: no collector pods
        delete o.spec.deadLetter;
      }
      if (o.kind === "Sink") {
        o.spec.scaling = { minReplicas: 1, maxReplicas: 12, targetLagSeconds: TARGET_LAG_SECONDS, scaleDownStabilizationSeconds: 20 };
        // What a node's share would be: one replica can work off only so much.
        o.spec.resources = { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "100m" } };
        o.spec.batching = { maxRows: 5_000, maxBytes: 8_388_608, maxDelay: "500ms" };
      }
    }
    kubectl(["-n", ns, "apply", "-f", "-"], objects.map((o) => JSON.stringify(o)).join("\n"));
    await waitForReadyPods(core, ns, SINK, 1);
  }, 300_000);

  afterAll(async () => {
    for (const name of [ns, system]) await core.deleteNamespace({ name }).catch(() => {});
  }, 60_000);

  it("scales up on the spike, down after the drop, within bounds and evenly, with 0 lost and 0 duplicates", async () => {
    const result = await runAutoscaleStudy({
      kc, brokers: env.kafkaBrokers, namespace: ns, tenant: "shop-a",
      resource: { plural: "sinks", name: "page-views-raw", deployment: "page-views-raw-sink" },
      topic: `${ns}.page-views`, groupId: `sluice.${ns}.sink.page-views-raw`,
      phases: PHASES, drainSeconds: 120,
      onRow: (r) => r.t % 10 === 0 && console.log(`[loop] ${r.t}s ${r.phase}: in ${r.incomingPerSecond}/s out ${r.consumedPerSecond}/s lag ${r.lagMessages} desired ${r.desiredReplicas} ready ${r.readyReplicas}`),
    });
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, "autoscale-sink.csv"), rowsToCsv(result.rows));
    writeFileSync(join(resultsDir, "autoscale-sink.png"), await timelinePng(result.rows, "Sink on 12 partitions, min 1 max 12, target lag 5 s"));
    const figures = studyFigures(result.rows, "spike", TARGET_LAG_SECONDS);
    console.log(`[loop] figures ${JSON.stringify(figures)}; results in ${resultsDir}`);

    const verdict = await waitFor("every acknowledged event queryable", async () => {
      const v = await oracle(env.clickhouseUrl, table, result.accepted);
      return v.lost === 0 ? v : undefined;
    }, { timeoutMs: 120_000, intervalMs: 2_000 }).catch(async (err: Error) => {
      const v = await oracle(env.clickhouseUrl, table, result.accepted);
      throw new Error(`${err.message}: lost ${v.lost} of ${v.accepted} (e.g. ${v.missingSample.join(", ")})`);
    });
    console.log(`[loop] oracle: accepted ${verdict.accepted}, lost ${verdict.lost}, duplicates ${verdict.duplicates}, raw rows ${verdict.rawRows}; failed sends ${result.failedSends}`);
    expect(verdict.lost).toBe(0);
    expect(verdict.duplicates).toBe(0);

    const desired = result.rows.map((r) => r.desiredReplicas);
    const peak = Math.max(...desired);
    expect(peak).toBeGreaterThanOrEqual(2);
    expect(peak).toBeLessThanOrEqual(12);
    for (const n of desired) expect(12 % n, `${n} replicas split 12 partitions unevenly`).toBe(0);
    // Up during the load, and back down once it dropped.
    const spikeEnd = PHASES.slice(0, 3).reduce((s, p) => s + p.seconds, 0);
    expect(Math.max(...result.rows.filter((r) => r.t <= spikeEnd + 10).map((r) => r.desiredReplicas))).toBe(peak);
    expect(result.rows.at(-1)!.desiredReplicas).toBeLessThan(peak);
    expect(result.rows.at(-1)!.lagMessages).toBe(0);
    // Each change is a Kubernetes Event naming its reason.
    const events = (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.involvedObject.kind === "Sink");
    expect(events.some((e) => e.reason === "ScaledUp" && /BacklogAboveTarget/.test(e.message ?? ""))).toBe(true);
    expect(events.some((e) => e.reason === "ScaledDown")).toBe(true);
  }, 900_000);
});
