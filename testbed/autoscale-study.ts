/**
 * The lag autoscaler's closed loop, observed: events go straight into a stream's topic at a
 * stepped rate (phases), while once a second we record what Kafka says (incoming and
 * consumed rates, lag), what the operator asked for (status.autoscaling.desiredReplicas)
 * and what the node runs (the Deployment's ready replicas). Used by the e2e test on the
 * real node and by `make bench-autoscale`, which keeps the CSV and the chart.
 */
import * as k8s from "@kubernetes/client-node";
import { kafkaClient } from "../runtime/kafka/client.js";
import { observeLag } from "../operator/autoscale/observe-lag.js";
import { clickEvent } from "./load-generator.js";

export interface Phase {
  name: string;
  seconds: number;
  eventsPerSecond: number;
  /** Each second's rate varies by up to ± this fraction (reproducibly), e.g. 0.3. */
  noise?: number;
}

/** A reproducible factor in [1 - amplitude, 1 + amplitude] for a given second. */
function noiseFactor(second: number, amplitude: number): number {
  const x = Math.sin(second * 12.9898 + 78.233) * 43758.5453;
  return 1 + (2 * (x - Math.floor(x)) - 1) * amplitude;
}

export interface Row {
  t: number;
  phase: string;
  incomingPerSecond: number;
  consumedPerSecond: number;
  lagMessages: number;
  lagSeconds: number | "";
  desiredReplicas: number;
  readyReplicas: number;
  /** The autoscaler's last decision: its reason and message (why the count is what it is). */
  reason: string;
  message: string;
}

export interface StudyOptions {
  kc: k8s.KubeConfig;
  brokers: string[];
  namespace: string;
  /** The resource whose status names the decision, and its worker Deployment. */
  resource: { plural: "sinks" | "aggregations"; name: string; deployment: string };
  topic: string;
  groupId: string;
  phases: Phase[];
  /** After the last phase, keep recording until lag is 0 and replicas are stable, at most this long. */
  drainSeconds: number;
  tenant: string;
  onRow?: (row: Row) => void;
}

export interface StudyResult {
  rows: Row[];
  /** Event ids Kafka acknowledged: what must be in ClickHouse exactly once. */
  accepted: Set<string>;
  failedSends: number;
}

export async function runAutoscaleStudy(o: StudyOptions): Promise<StudyResult> {
  const custom = o.kc.makeApiClient(k8s.CustomObjectsApi);
  const apps = o.kc.makeApiClient(k8s.AppsV1Api);
  const client = kafkaClient(o.brokers, "sluice-autoscale-study");
  const producer = client.producer();
  const admin = client.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  const accepted = new Set<string>();
  let failedSends = 0;
  let next = 0;
  const inFlight = new Set<Promise<void>>();
  const rows: Row[] = [];
  const started = Date.now();
  let phase = o.phases[0]!;
  let produced = 0;

  // Producing: every 100 ms, what the phase's rate owes by now; sends are not awaited in
  // the tick, so a slow acknowledgement never slows the offered rate.
  const tick = setInterval(() => {
    const elapsed = (Date.now() - started) / 1000;
    let at = 0;
    let owed = 0;
    for (const p of o.phases) {
      const into = Math.min(p.seconds, Math.max(0, elapsed - at));
      // Whole seconds at their own (noisy) rate, then the current second's share.
      for (let s = 0; s < Math.floor(into); s++) owed += p.eventsPerSecond * noiseFactor(at + s, p.noise ?? 0);
      owed += (into - Math.floor(into)) * p.eventsPerSecond * noiseFactor(at + Math.floor(into), p.noise ?? 0);
      if (elapsed >= at && elapsed < at + p.seconds) phase = p;
      at += p.seconds;
    }
    const n = Math.floor(owed) - produced;
    if (n <= 0) return;
    produced += n;
    const events = Array.from({ length: n }, () => clickEvent(next++, o.tenant));
    const send = producer
      .send({ topic: o.topic, messages: events.map((e) => ({ key: String(e.user_id), value: JSON.stringify(e) })) })
      .then(() => {
        for (const e of events) accepted.add(String(e.event_id));
      }, () => {
        failedSends += events.length;
      })
      .finally(() => inFlight.delete(send));
    inFlight.add(send);
  }, 100);

  const total = o.phases.reduce((s, p) => s + p.seconds, 0);
  let previous: { atMs: number; end: number; position: number } | undefined;
  try {
    for (let second = 1; ; second++) {
      const due = started + second * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      const [lag, resource, deployment] = await Promise.all([
        observeLag(admin, o.groupId, o.topic, Date.now()),
        custom.getNamespacedCustomObject({ group: "sluice.dev", version: "v1alpha1", namespace: o.namespace, plural: o.resource.plural, name: o.resource.name }) as Promise<{ status?: { autoscaling?: { desiredReplicas?: number; reason?: string; message?: string } } }>,
        apps.readNamespacedDeployment({ namespace: o.namespace, name: o.resource.deployment }),
      ]);
      const dt = previous ? (lag.atMs - previous.atMs) / 1000 : 1;
      const incoming = previous ? Math.max(0, lag.end - previous.end) / dt : 0;
      const consumed = previous ? Math.max(0, lag.position - previous.position) / dt : 0;
      previous = lag;
      const lagMessages = lag.end - lag.position;
      const row: Row = {
        t: second,
        phase: second <= total ? phase.name : "drain",
        incomingPerSecond: Math.round(incoming),
        consumedPerSecond: Math.round(consumed),
        lagMessages,
        lagSeconds: consumed > 0 ? Math.round((lagMessages / consumed) * 10) / 10 : lagMessages === 0 ? 0 : "",
        desiredReplicas: resource.status?.autoscaling?.desiredReplicas ?? deployment.spec?.replicas ?? 0,
        readyReplicas: deployment.status?.readyReplicas ?? 0,
        reason: resource.status?.autoscaling?.reason ?? "",
        message: resource.status?.autoscaling?.message ?? "",
      };
      rows.push(row);
      o.onRow?.(row);
      if (second > total) {
        const recent = rows.slice(-10);
        // Calm: no lag, the count steady and all Ready, and the autoscaler not in the middle
        // of a step (waiting out its scale-down window, or a rebalance settling). Without the
        // last part a run stopped on "12 Ready, 1 would do, waiting out 20 s" and recorded
        // no scale-down (two CI failures, once the 50m pods made the drain end later).
        const midStep = (r: Row) => r.reason === "ScaleDownStabilizing" || r.reason === "RebalanceSettling";
        const calm = recent.length === 10 && recent.every((r) => r.lagMessages === 0 && r.desiredReplicas === row.desiredReplicas && r.readyReplicas === row.desiredReplicas && !midStep(r));
        if (calm || second > total + o.drainSeconds) break;
      }
    }
  } finally {
    clearInterval(tick);
    await Promise.allSettled([...inFlight]);
    await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
  }
  return { rows, accepted, failedSends };
}

/** The rows as CSV, one line per second. */
export function rowsToCsv(rows: readonly Row[]): string {
  const header = "t_seconds,phase,incoming_per_second,consumed_per_second,lag_messages,lag_seconds,desired_replicas,ready_replicas,reason";
  return [header, ...rows.map((r) => [r.t, r.phase, r.incomingPerSecond, r.consumedPerSecond, r.lagMessages, r.lagSeconds, r.desiredReplicas, r.readyReplicas, r.reason].join(","))].join("\n") + "\n";
}

/** Figures a note can quote: reaction times to the spike, and scale events per phase. */
export function studyFigures(rows: readonly Row[], spikePhase: string, targetLagSeconds: number) {
  const spikeStart = rows.find((r) => r.phase === spikePhase)?.t;
  const before = spikeStart === undefined ? undefined : rows.filter((r) => r.t < spikeStart).at(-1)?.desiredReplicas;
  const decision = spikeStart === undefined ? undefined : rows.find((r) => r.t >= spikeStart && before !== undefined && r.desiredReplicas > before);
  const ready = decision ? rows.find((r) => r.t >= decision.t && r.readyReplicas >= decision.desiredReplicas) : undefined;
  const backUnder = spikeStart === undefined ? undefined : rows.find((r) => r.t > (ready?.t ?? spikeStart) && r.lagSeconds !== "" && r.lagSeconds <= targetLagSeconds);
  const scaleEvents: Record<string, number> = {};
  rows.forEach((r, k) => {
    if (k > 0 && r.desiredReplicas !== rows[k - 1]!.desiredReplicas) scaleEvents[r.phase] = (scaleEvents[r.phase] ?? 0) + 1;
  });
  return {
    spikeToDecisionSeconds: decision && spikeStart !== undefined ? decision.t - spikeStart : undefined,
    spikeToReadySeconds: ready && spikeStart !== undefined ? ready.t - spikeStart : undefined,
    spikeToLagUnderTargetSeconds: backUnder && spikeStart !== undefined ? backUnder.t - spikeStart : undefined,
    peakReplicas: Math.max(...rows.map((r) => r.desiredReplicas)),
    finalReplicas: rows.at(-1)?.desiredReplicas,
    scaleEvents,
  };
}
