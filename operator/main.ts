/**
 * Starts the operator: one informer per kind, one controller per kind with its own
 * queue and worker pool, and the cross-kind triggers that re-queue a Sink or Aggregation
 * when its stream's spec, running schema or readiness changes.
 */
import * as k8s from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import { API_VERSION } from "../api/common.js";
import type { Logger } from "../runtime/log.js";
import { systemClock, type Clock } from "./clock.js";
import type { OperatorConfig } from "./config.js";
import { OperatorContext } from "./context.js";
import { Controller } from "./controller.js";
import { eventStreamReconciler, PLURAL as STREAMS } from "./eventstream/reconcile.js";
import { KindInformer, keyOf, type Obj } from "./informer.js";
import { LeaderElector, type LeaseTiming } from "./leader.js";
import { operatorMetrics } from "./metrics.js";
import { AutoscaleMetrics } from "./autoscale/metrics.js";
import { sinkReconciler, PLURAL as SINKS } from "./sink/reconcile.js";
import { aggregationReconciler, PLURAL as AGGREGATIONS } from "./aggregation/reconcile.js";
import { streamFingerprint } from "./triggers.js";

export interface RunningOperator {
  context: OperatorContext;
  elector?: LeaderElector;
  controllers: Record<"EventStream" | "Sink" | "Aggregation", Controller>;
  stop(): Promise<void>;
}

export interface StartOptions {
  kc: k8s.KubeConfig;
  config: OperatorConfig;
  log: Logger;
  clock?: Clock;
  registry?: Registry;
  /** Called when leadership is lost: the process should exit and let a standby take over. */
  onLostLeadership?: () => void;
  leaseTiming?: LeaseTiming;
}

export async function startOperator(o: StartOptions): Promise<RunningOperator> {
  const clock = o.clock ?? systemClock;
  const ctx = new OperatorContext(o.kc, o.config, clock, o.log);
  const metrics = o.registry ? operatorMetrics(o.registry) : undefined;
  if (o.registry) ctx.autoscaleMetrics = new AutoscaleMetrics(o.registry);
  const prefix = `/apis/${API_VERSION}`;
  const streams = new KindInformer(o.kc, { prefix, plural: STREAMS }, o.config.namespaces, clock, o.log);
  const sinks = new KindInformer(o.kc, { prefix, plural: SINKS }, o.config.namespaces, clock, o.log);
  const aggregations = new KindInformer(o.kc, { prefix, plural: AGGREGATIONS }, o.config.namespaces, clock, o.log);
  ctx.streams = () => streams.list();
  ctx.writers = () => [...sinks.list().map((obj) => ({ kind: "Sink" as const, obj })), ...aggregations.list().map((obj) => ({ kind: "Aggregation" as const, obj }))];
  const common = { workers: o.config.workers, resyncPeriodMs: o.config.resyncPeriodMs, backoff: o.config.backoff, clock, log: o.log, metrics };
  const streamController = new Controller({ ...common, kind: "EventStream", primary: streams, reconcile: eventStreamReconciler(ctx) });
  const sinkController = new Controller({ ...common, kind: "Sink", primary: sinks, reconcile: sinkReconciler(ctx) });
  const aggregationController = new Controller({ ...common, kind: "Aggregation", primary: aggregations, reconcile: aggregationReconciler(ctx) });
  sinkController.watchRelated(streams, dependentsOf(sinks));
  aggregationController.watchRelated(streams, dependentsOf(aggregations));
  const controllers = [streamController, sinkController, aggregationController];
  const informers = [streams, sinks, aggregations];

  // Caches first, then workers: a reconcile must not run against a half-listed world.
  await Promise.all(informers.map((i) => i.start()));
  const elector = o.config.leaderElection.enabled ? electLeader(o, clock) : undefined;
  await elector?.run(() => {
    for (const c of controllers) void c.stop();
    o.onLostLeadership?.();
  });
  for (const c of controllers) c.start();
  o.log.info("operator started", { namespaces: o.config.namespaces.length > 0 ? o.config.namespaces : "all", workers: o.config.workers });

  let stopped = false;
  return {
    context: ctx,
    controllers: { EventStream: streamController, Sink: sinkController, Aggregation: aggregationController },
    elector,
    async stop() {
      if (stopped) return;
      stopped = true;
      await elector?.stop();
      await Promise.all(informers.map((i) => i.stop()));
      await Promise.all(controllers.map((c) => c.stop()));
      await ctx.close();
    },
  };
}

function electLeader(o: StartOptions, clock: Clock): LeaderElector {
  const { namespace, leaseName, identity } = o.config.leaderElection;
  return new LeaderElector({ coordination: o.kc.makeApiClient(k8s.CoordinationV1Api), namespace, name: leaseName, identity, clock, log: o.log, timing: o.leaseTiming });
}

/**
 * Keys of the workers reading a stream, when something they depend on changed (spec,
 * running schema, readiness): status writes that change none of these re-queue nothing.
 */
function dependentsOf(workers: KindInformer) {
  const fingerprints = new Map<string, string>();
  return (event: "add" | "update" | "delete", stream: Obj): string[] => {
    const key = keyOf(stream);
    const fp = event === "delete" ? "deleted" : streamFingerprint(stream);
    if (fingerprints.get(key) === fp) return [];
    fingerprints.set(key, fp);
    return workers
      .list(stream.metadata?.namespace)
      .filter((w) => w.spec?.source?.stream === stream.metadata?.name)
      .map(keyOf);
  };
}
