/**
 * Retrying one step of a batch until it succeeds, the partition is lost, or the sink
 * stops. Never skips: skipping a batch would lose data. Errors that cannot pass by
 * themselves are rethrown after a few attempts; with a deadline, so is an error that
 * outlasted it (the worker then fails loudly instead of waiting in silence).
 */
import { backoffDelay, type BackoffOptions } from "./backoff.js";

export interface RetryContext {
  /** False once the partition was revoked or the sink is stopping: abandon without side effects. */
  shouldContinue(): boolean;
  signal: AbortSignal;
  backoff: BackoffOptions;
  /** `step` is the low-cardinality name of what failed (RetryOptions.step), for metrics. */
  onRetry(what: string, attempt: number, err: unknown, delayMs: number, step?: string): void;
  /** Called once when a step that onRetry or onSlow was called for ends, however it ends. */
  onSettled?(what: string, step?: string): void;
  /**
   * Called when one attempt has had no answer for `slowMs`: librdkafka queues a commit
   * while the coordinator is unreachable instead of failing it, so a step can hang
   * without any error to retry, and that must be visible too.
   */
  onSlow?(what: string, waitedMs: number, step?: string): void;
  /** Default 10 s. */
  slowMs?: number;
}

export interface RetryOptions {
  /** Errors for which this is false count towards `maxNonRetriable`. Default: all are retriable. */
  isRetriable?: (e: unknown) => boolean;
  /** Attempts that failed with a non-retriable error before it is rethrown. Default 3. */
  maxNonRetriable?: number;
  /** An error still failing this long after the first failure is rethrown as RetriesExhausted. Default: never. */
  deadlineMs?: number;
  /** Names the kind of step (e.g. "commit") for onRetry and onSettled. */
  step?: string;
}

export class Abandoned extends Error {
  constructor(what: string) {
    super(`${what} abandoned: partition revoked or sink stopping`);
    this.name = "Abandoned";
  }
}

export class RetriesExhausted extends Error {
  constructor(what: string, readonly attempts: number, readonly elapsedMs: number, readonly lastError: unknown) {
    super(`${what} still failing after ${attempts} attempts in ${Math.round(elapsedMs / 1000)} s: ${(lastError as Error)?.message ?? String(lastError)}`, { cause: lastError });
    this.name = "RetriesExhausted";
  }
}

export async function retrying<T>(what: string, ctx: RetryContext, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const { isRetriable = () => true, maxNonRetriable = 3, deadlineMs = Infinity, step } = opts;
  let nonRetriable = 0;
  let firstFailureAt: number | undefined;
  let retried = false;
  let slow: NodeJS.Timeout | undefined;
  try {
    for (let attempt = 1; ; attempt++) {
      if (!ctx.shouldContinue()) throw new Abandoned(what);
      const slowMs = ctx.slowMs ?? 10_000;
      if (ctx.onSlow) {
        slow = setTimeout(() => {
          retried = true;
          ctx.onSlow!(what, slowMs, step);
        }, slowMs);
        slow.unref();
      }
      try {
        return await fn();
      } catch (err) {
        clearTimeout(slow);
        if (!ctx.shouldContinue()) throw new Abandoned(what);
        if (!isRetriable(err) && ++nonRetriable >= maxNonRetriable) throw err;
        firstFailureAt ??= Date.now();
        const delay = backoffDelay(attempt, ctx.backoff);
        const elapsed = Date.now() - firstFailureAt;
        if (elapsed + delay > deadlineMs) throw new RetriesExhausted(what, attempt, elapsed, err);
        retried = true;
        ctx.onRetry(what, attempt, err, delay, step);
        await sleep(delay, ctx.signal);
      } finally {
        clearTimeout(slow);
      }
    }
  } finally {
    if (retried) ctx.onSettled?.(what, step);
  }
}

/** A wait for backoff (not a test sleep): ends early when the sink stops. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
