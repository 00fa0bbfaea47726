/**
 * The Retrying condition of a Sink or Aggregation: what its worker pods say they are
 * retrying right now (their /status, runtime/worker/ops-server.ts). A coordinator move or a
 * ClickHouse restart is waited out by the workers, which only fail after a deadline; while
 * that lasts, `kubectl get` and `kubectl describe` say what is being retried, since when,
 * and the error, instead of a silent Ready=True.
 *
 * Not a dependency of Ready: a retry that passes by itself is not a fault of the spec.
 * Messages name the step, its start and the error, not the attempt count, so status is
 * written when the situation changes, not at every retry.
 */
import type * as k8s from "@kubernetes/client-node";
import type { ConditionInput } from "../conditions.js";
import type { OperatorContext } from "../context.js";
import { errorMessage } from "../errors.js";
import type { RetryLine } from "../../runtime/sink/retry-board.js";
import type { WorkerStatus } from "../../runtime/worker/ops-server.js";
import { HTTP_PORT } from "./desired.js";

export type PodReport = { pod: string; status: WorkerStatus } | { pod: string; error: string };

const STATUS_TIMEOUT_MS = 2_000;
const SYSTEM = { kafka: "Kafka", clickhouse: "ClickHouse" } as const;

/** Reads /status of every running pod matching `selector`; an unreachable pod is reported as such. */
export async function readWorkerStatuses(ctx: Pick<OperatorContext, "core">, namespace: string, selector: string): Promise<PodReport[]> {
  const pods = (await ctx.core.listNamespacedPod({ namespace, labelSelector: selector })).items.filter(isRunning);
  return Promise.all(pods.map(async (p): Promise<PodReport> => {
    const pod = p.metadata!.name!;
    try {
      const res = await fetch(`http://${hostOf(p.status!.podIP!)}:${HTTP_PORT}/status`, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
      if (!res.ok) return { pod, error: `/status answered ${res.status}` };
      return { pod, status: (await res.json()) as WorkerStatus };
    } catch (err) {
      return { pod, error: errorMessage(err) };
    }
  }));
}

/** The Retrying condition of the workload whose pods match `selector`. */
export async function observeRetrying(ctx: Pick<OperatorContext, "core">, namespace: string, selector: string): Promise<ConditionInput> {
  try {
    return retryingCondition(await readWorkerStatuses(ctx, namespace, selector));
  } catch (err) {
    return { type: "Retrying", status: "Unknown", reason: "WorkerStatusUnavailable", message: `worker pods not listed: ${errorMessage(err)}` };
  }
}

/** The condition from the pods' reports (pure). */
export function retryingCondition(reports: readonly PodReport[]): ConditionInput {
  // A worker cut off from every broker has nothing to retry (its consumer just stops
  // fetching, its readiness fails): that is the cause to show first.
  const cutOff = reports.flatMap((r) => ("status" in r && r.status.kafka?.reachable === false ? [{ pod: r.pod, since: r.status.kafka.lastAnswerAt }] : []));
  if (cutOff.length > 0) {
    return {
      type: "Retrying", status: "True", reason: "KafkaUnreachable",
      message: `${cutOff.map((c) => `pod ${c.pod}: no Kafka bootstrap broker has answered since ${c.since.replace(/\.\d{3}Z$/, "Z")}`).join("; ")}. The worker reconnects by itself and is NotReady meanwhile`,
    };
  }
  const lines = reports.flatMap((r) => ("status" in r ? r.status.retrying.map((l) => ({ pod: r.pod, l })) : []));
  if (lines.length > 0) {
    const kafka = lines.some(({ l }) => l.system === "kafka");
    const shown = [...lines].sort((a, b) => Number(b.l.system === "kafka") - Number(a.l.system === "kafka") || a.l.since.localeCompare(b.l.since));
    return {
      type: "Retrying", status: "True", reason: reasonOf(shown[0]!.l),
      message: `${shown.map(({ pod, l }) => describe(pod, l)).join("; ")}. Waited out by the worker${kafka ? "; it fails (and its pod restarts) if a Kafka step still fails after 5 minutes" : ""}`,
    };
  }
  const unreachable = reports.filter((r): r is { pod: string; error: string } => "error" in r);
  if (unreachable.length > 0 && unreachable.length === reports.length) {
    return { type: "Retrying", status: "Unknown", reason: "WorkerStatusUnavailable", message: unreachable.map((r) => `pod ${r.pod}: /status not read: ${r.error}`).join("; ") };
  }
  const seen = reports.length - unreachable.length;
  return {
    type: "Retrying", status: "False", reason: "NoRetries",
    message: reports.length === 0 ? "no worker pod is running" : `none of ${seen} worker pod(s) is retrying a step${unreachable.length > 0 ? ` (${unreachable.length} not read: ${unreachable.map((r) => r.pod).join(", ")})` : ""}`,
  };
}

// A step that failed is retrying; one whose first attempt hangs (librdkafka queues a commit
// while the coordinator is unreachable) has had no answer yet.
const reasonOf = (l: RetryLine) => `${SYSTEM[l.system]}${l.attempts > 0 ? "Retrying" : "NotAnswering"}`;

function describe(pod: string, l: RetryLine): string {
  const where = l.operations > 1 ? ` (${l.operations} operations, e.g. ${l.example})` : ` (${l.example})`;
  return `pod ${pod}: ${SYSTEM[l.system]} ${l.step} ${l.attempts > 0 ? "retrying" : "waiting"} since ${l.since.replace(/\.\d{3}Z$/, "Z")}${where}: ${l.error}`;
}

const isRunning = (p: k8s.V1Pod) => p.status?.phase === "Running" && !!p.status.podIP && p.metadata?.deletionTimestamp === undefined;
const hostOf = (ip: string) => (ip.includes(":") ? `[${ip}]` : ip);
