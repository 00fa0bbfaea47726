/**
 * One controller per kind: watch events and a periodic resync feed a keyed work queue;
 * a small pool of workers reconciles distinct keys concurrently. A reconcile returns what
 * should happen next; a throw is a transient failure and backs off per key.
 */
import type { Clock } from "./clock.js";
import type { Logger } from "../runtime/log.js";
import { keyOf, splitKey, type Handler, type Obj } from "./informer.js";
import type { OperatorMetrics } from "./metrics.js";
import { WorkQueue, type BackoffPolicy } from "./queue.js";
import { needsReconcile, seenOf, type Seen } from "./triggers.js";
import { errorMessage } from "./errors.js";

export interface ReconcileResult {
  /** A dependency failed and the condition says so: retry with this key's backoff. */
  retry?: boolean;
  /** Look again after this long even if nothing changes (e.g. waiting for a source). */
  requeueAfterMs?: number;
}

/** What a controller needs of an informer: its events and its cache (KindInformer, or a fake). */
export interface WatchSource {
  on(handler: Handler): void;
  list(namespace?: string): Obj[];
}

export type Reconcile = (key: { namespace: string; name: string }) => Promise<ReconcileResult>;

export interface ControllerOptions {
  kind: string;
  primary: WatchSource;
  reconcile: Reconcile;
  workers: number;
  resyncPeriodMs: number;
  backoff: BackoffPolicy;
  clock: Clock;
  log: Logger;
  metrics?: OperatorMetrics;
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly seen = new Map<string, Seen>();
  private loops: Promise<void>[] = [];
  private resyncTimer: unknown;

  constructor(private readonly o: ControllerOptions) {
    this.queue = new WorkQueue(o.clock, o.backoff);
    o.primary.on((event, obj) => this.onPrimary(event, obj));
  }

  /** Re-queues keys of this kind when a related object changes (e.g. a Sink's stream). */
  watchRelated(informer: WatchSource, map: (event: "add" | "update" | "delete", obj: Obj) => string[]): void {
    informer.on((event, obj) => {
      for (const key of map(event, obj)) this.queue.add(key);
    });
  }

  start(): void {
    for (let i = 0; i < this.o.workers; i++) this.loops.push(this.work());
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.o.clock.clearTimeout(this.resyncTimer);
    this.queue.shutDown();
    await Promise.all(this.loops);
  }

  private onPrimary(event: "add" | "update" | "delete", obj: Obj): void {
    const key = keyOf(obj);
    if (event === "delete") {
      this.seen.delete(key);
      return;
    }
    const now = seenOf(obj);
    const last = this.seen.get(key);
    this.seen.set(key, now);
    if (needsReconcile(last, now)) this.queue.add(key);
  }

  /** Drift repair: everything is looked at again now and then, changed or not. */
  private scheduleResync(): void {
    this.resyncTimer = this.o.clock.setTimeout(() => {
      for (const obj of this.o.primary.list()) this.queue.add(keyOf(obj));
      this.scheduleResync();
    }, this.o.resyncPeriodMs);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.process(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async process(key: string): Promise<void> {
    const { kind, log, metrics, clock } = this.o;
    const started = clock.now();
    let result: ReconcileResult;
    try {
      result = await this.o.reconcile(splitKey(key));
    } catch (err) {
      const delayMs = this.queue.addRateLimited(key);
      metrics?.reconciles.inc({ kind, result: "error" });
      const reason = (err as { reason?: unknown } | null)?.reason;
      log.warn("reconcile failed", { kind, key, delayMs, ...(typeof reason === "string" ? { reason } : {}), error: errorMessage(err) });
      return;
    } finally {
      metrics?.duration.observe({ kind }, (clock.now() - started) / 1000);
    }
    if (result.retry) {
      const delayMs = this.queue.addRateLimited(key);
      metrics?.reconciles.inc({ kind, result: "requeue" });
      log.info("reconcile will retry", { kind, key, delayMs });
      return;
    }
    this.queue.forget(key);
    metrics?.reconciles.inc({ kind, result: "success" });
    if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
  }
}
