/**
 * The lag autoscaler in a closed loop on the real node: the chart's operator, a Sink and
 * an Aggregation, each on a 12-partition stream, min 1, max 12, and workers as
 * real pods whose CPU limit bounds what one replica works off, as a node's share would on
 * a cluster. Events go straight into the topic at a stepped rate (steady, step up, spike,
 * drop) while each second's incoming and consumed rates, lag, desired replicas and Ready
 * pods are recorded. Each run must scale up under the load, back down after the drop,
 * never past the partitions or to an uneven split, and its oracle must find every
 * acknowledged event exactly once across every scale event and rebalance. The timelines
 * are written as CSV and PNG (`.testbed/results/`, or SLUICE_RESULTS_DIR).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { createClient } from "@clickhouse/client";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { oracle } from "../../testbed/oracle.js";
import { rowsToCsv, runAutoscaleStudy, studyFigures, type Phase, type StudyResult } from "../../testbed/autoscale-study.js";
import { timelinePng } from "../../testbed/timeline-chart.js";
import { kubeConfig, kubectl } from "../support/kube.js";
import { clickstreamExample, hasNode, helm, nodeEnv, removeReleaseAndPipeline, waitForReadyPods } from "../support/node.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const TARGET_LAG_SECONDS = 5;
/** Steady, step up, spike, drop; `scale` sizes the rates to what one pod works off. */
const phases = (scale: number): Phase[] => [
  { name: "steady", seconds: 30, eventsPerSecond: 300 * scale },
  { name: "step up", seconds: 40, eventsPerSecond: 1_500 * scale },
  { name: "spike", seconds: 30, eventsPerSecond: 4_000 * scale },
  { name: "drop", seconds: 60, eventsPerSecond: 100 * scale },
];
const resultsDir = process.env.SLUICE_RESULTS_DIR ?? join(repoRoot, ".testbed", "results");
const scaling = { minReplicas: 1, maxReplicas: 12, targetLagSeconds: TARGET_LAG_SECONDS, scaleDownStabilizationSeconds: 20 };
// What a node's share would be: one replica can work off only so much.
const resources = (cpu: string) => ({ requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu } });

interface Run {
  kind: "Sink" | "Aggregation";
  plural: "sinks" | "aggregations";
  name: string;
  component: "sink" | "aggregation";
  file: string;
  /** The pods' CPU limit, and the load phases sized to it. */
  cpu: string;
  phases: Phase[];
  /** The resource, from the clickstream example's stream. */
  resource(database: string): Record<string, any>;
  /** After the load: what the resource needs to have written everything (optional). */
  finish?(brokers: string[], topic: string): Promise<void>;
  /** Every acknowledged event counted exactly once, or what is wrong. */
  verify(clickhouseUrl: string, database: string, result: StudyResult): Promise<string | undefined>;
}

const sink: Run = {
  // 50m and a 6,000/s spike: at 100m one sink pod sometimes kept up with a 4,000/s spike by
  // itself (a CI run saw it drain 6,900/s) and the loop never had a reason to scale; the
  // test is about the loop, so the spike must be well past what one pod works off.
  kind: "Sink", plural: "sinks", name: "page-views-raw", component: "sink", file: "autoscale-sink", cpu: "50m", phases: phases(1.5),
  resource: (database) => {
    const o = clickstreamExample(database).objects.find((x) => x.kind === "Sink")!;
    return { ...o, spec: { ...o.spec, scaling, resources: resources(sink.cpu), batching: { maxRows: 5_000, maxBytes: 8_388_608, maxDelay: "500ms" } } };
  },
  verify: async (url, database, result) => {
    const v = await oracle(url, `${database}.page_views`, result.accepted);
    console.log(`[loop] sink oracle: accepted ${v.accepted}, lost ${v.lost}, duplicates ${v.duplicates}, raw rows ${v.rawRows}; failed sends ${result.failedSends}`);
    return v.lost === 0 && v.duplicates === 0 ? undefined : `lost ${v.lost} of ${v.accepted} (e.g. ${v.missingSample.join(", ")}), duplicates ${v.duplicates}`;
  },
};

const aggregation: Run = {
  // A count per user per window is cheaper per event than a sink row: twice the rate, on
  // 50m. At 100m one pod worked off a 6,000/s spike alone (6,500/s, on the node and in CI)
  // once its consumer read in larger fetches, and the loop never scaled.
  kind: "Aggregation", plural: "aggregations", name: "views-per-user", component: "aggregation", file: "autoscale-aggregation", cpu: "50m", phases: phases(2),
  resource: (database) => ({
    apiVersion: "sluice.dev/v1alpha1",
    kind: "Aggregation",
    metadata: { name: "views-per-user" },
    spec: {
      source: { stream: "page-views" },
      // Results on close only, and windows kept open briefly: the output stays ~1,000 rows
      // per 10 s, so what bounds a replica is reading and aggregating, not writing.
      window: { type: "tumbling", size: "10s" },
      // A short idleTimeout on purpose: a partition starved of CPU or paused by a rebalance
      // looks idle in processing time. Idleness only times firings; lateness is decided by
      // each event's own partition, so hand-overs replay it identically (before, this loop
      // found 4,710 events both late and counted with a 5 s idleTimeout).
      watermark: { maxOutOfOrderness: "6s", idleTimeout: "5s" },
      allowedLateness: "10s",
      groupBy: ["user_id"], // the partition key: each worker owns its groups, so it can scale out
      measures: [{ name: "views", fn: "count" }],
      lateData: { policy: "Table" },
      output: { clickhouse: { database, table: "views_per_user" } },
      scaling,
      resources: resources(aggregation.cpu),
    },
  }),
  // The last windows close only when event time moves on: 240 events two minutes ahead,
  // over as many users (so every partition gets some), move each partition's watermark
  // past them. They are not among the acknowledged events the check counts.
  finish: async (brokers, topic) => {
    const producer = kafkaClient(brokers, "autoscale-loop-closer").producer();
    await producer.connect();
    try {
      const at = new Date(Date.now() + 120_000).toISOString();
      await producer.send({ topic, messages: Array.from({ length: 240 }, (_, i) => ({ key: `closer-${i}`, value: JSON.stringify({ event_id: `closer-${i}`, tenant_id: "shop-a", user_id: `closer-${i}`, event_time: at, url: "https://shop.example/closer" }) })) });
    } finally {
      await producer.disconnect();
    }
  },
  verify: async (url, database, result) => {
    // Every event is in exactly one window's count or in the late table.
    const ch = createClient({ url });
    try {
      const q = async (query: string) => Number(((await (await ch.query({ query, format: "JSONEachRow" })).json()) as { n: string }[])[0]!.n);
      const counted = await q(`SELECT sum(views) AS n FROM ${database}.views_per_user FINAL WHERE is_deleted = 0 AND NOT startsWith(user_id, 'closer-')`);
      const late = await q(`SELECT count() AS n FROM ${database}.views_per_user_late FINAL`);
      console.log(`[loop] aggregation: accepted ${result.accepted.size}, counted ${counted}, late ${late}; failed sends ${result.failedSends}`);
      return counted + late === result.accepted.size ? undefined : `counted ${counted} + late ${late} != accepted ${result.accepted.size}`;
    } finally {
      await ch.close();
    }
  },
};

/**
 * Ten minutes of steady load with ±30% noise per second after the count settled: zero scale
 * events expected. Too long for the suite; `SLUICE_AUTOSCALE_NOISY=1 make bench-autoscale`.
 */
const noisySink: Run = {
  ...sink, file: "autoscale-sink-noisy",
  phases: [
    { name: "settle", seconds: 90, eventsPerSecond: 4_000 },
    { name: "noisy", seconds: 600, eventsPerSecond: 4_000, noise: 0.3 },
  ],
};
const noisy = process.env.SLUICE_AUTOSCALE_NOISY === "1";
// The Sink and the Aggregation both run in `make test`. The Aggregation's oracle failed
// before lateness was decided per partition (issue 13): 4,710 of 292,500 events were both
// reported late and counted across hand-overs with a 5 s idleTimeout.
describe.skipIf(!hasNode).each(noisy ? [noisySink] : [sink, aggregation])("the lag autoscaler in a closed loop on real pods: $kind", (run) => {
  const env = testbedEnv();
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const system = randomName("sluice-loop-system");
  const ns = randomName("loop");
  const release = randomName("loop");
  const database = `e2e_${ns.replaceAll("-", "_")}`;
  const selector = `app.kubernetes.io/name=sluice-${run.component},app.kubernetes.io/instance=${run.name}`;

  beforeAll(async () => {
    const { helmValues } = nodeEnv();
    for (const name of [system, ns]) await core.createNamespace({ body: { metadata: { name } } });
    helm([
      "install", release, join(repoRoot, "charts", "sluice"), "-n", system, "-f", helmValues,
      "--set", `watchNamespaces[0]=${ns}`, "--set", "replicas=1",
      "--set", "autoscaler.interval=2s", "--set", "autoscaler.lookback=10s", "--set", "autoscaler.settleTimeout=60s",
      "--wait", "--timeout", "3m",
    ]);
    const stream = clickstreamExample(database).objects.find((o) => o.kind === "EventStream")!;
    stream.spec.ingest = { enabled: false }; // events go straight to the topic: no collector pods
    delete stream.spec.deadLetter;
    kubectl(["-n", ns, "apply", "-f", "-"], [stream, run.resource(database)].map((o) => JSON.stringify(o)).join("\n"));
    await waitForReadyPods(core, ns, selector, 1);
  }, 300_000);

  afterAll(async () => {
    await removeReleaseAndPipeline(core, { pipelineNamespace: ns, release, releaseNamespace: system });
  }, 300_000);

  it("scales up under load, down after the drop, within bounds and evenly, and counts every event exactly once", async () => {
    const result = await runAutoscaleStudy({
      kc, brokers: env.kafkaBrokers, namespace: ns, tenant: "shop-a",
      resource: { plural: run.plural, name: run.name, deployment: `${run.name}-${run.component}` },
      topic: `${ns}.page-views`, groupId: `sluice.${ns}.${run.component}.${run.name}`,
      phases: run.phases, drainSeconds: 150,
      onRow: (r) => r.t % 10 === 0 && console.log(`[loop] ${run.kind} ${r.t}s ${r.phase}: in ${r.incomingPerSecond}/s out ${r.consumedPerSecond}/s lag ${r.lagMessages} desired ${r.desiredReplicas} ready ${r.readyReplicas} ${r.reason}: ${r.message}`),
    });
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, `${run.file}.csv`), rowsToCsv(result.rows));
    writeFileSync(join(resultsDir, `${run.file}.png`), await timelinePng(result.rows, `${run.kind} on 12 partitions, min 1 max 12, target lag ${TARGET_LAG_SECONDS} s, ${run.cpu} CPU per pod`));
    console.log(`[loop] ${run.kind} figures ${JSON.stringify(studyFigures(result.rows, "spike", TARGET_LAG_SECONDS))}; results in ${resultsDir}`);

    await run.finish?.(env.kafkaBrokers, `${ns}.page-views`);
    let problem: string | undefined = "not checked";
    await waitFor(`every acknowledged event counted once by the ${run.kind}`, async () => ((problem = await run.verify(env.clickhouseUrl, database, result)) === undefined ? true : undefined), {
      timeoutMs: 120_000, intervalMs: 3_000,
    }).catch((err: Error) => {
      throw new Error(`${err.message}: ${problem}`);
    });

    if (run === noisySink) {
      const figures = studyFigures(result.rows, "noisy", TARGET_LAG_SECONDS);
      console.log(`[loop] scale events while noisy: ${figures.scaleEvents.noisy ?? 0}`);
      expect(figures.scaleEvents.noisy ?? 0).toBe(0);
      return;
    }
    const desired = result.rows.map((r) => r.desiredReplicas);
    const peak = Math.max(...desired);
    expect(peak).toBeGreaterThanOrEqual(2);
    expect(peak).toBeLessThanOrEqual(12);
    for (const n of desired) expect(12 % n, `${n} replicas split 12 partitions unevenly`).toBe(0);
    // Up while the load's backlog lasted (a decision takes a few seconds), and back down
    // once it was gone.
    const loadEnd = run.phases.slice(0, 3).reduce((s, p) => s + p.seconds, 0);
    const drained = result.rows.find((r) => r.t > loadEnd && r.lagMessages < 1_000)!;
    const peakAt = result.rows.find((r) => r.desiredReplicas === peak)!;
    expect(peakAt.t, `peak ${peak} at ${peakAt.t} s, backlog gone at ${drained.t} s`).toBeLessThanOrEqual(drained.t + 10);
    expect(result.rows.at(-1)!.desiredReplicas).toBeLessThan(peak);
    // Each change is a Kubernetes Event naming its reason.
    const events = (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.involvedObject.kind === run.kind);
    expect(events.some((e) => e.reason === "ScaledUp" && /BacklogAboveTarget/.test(e.message ?? ""))).toBe(true);
    expect(events.some((e) => e.reason === "ScaledDown")).toBe(true);
  }, 1_800_000);
});
