/**
 * Retrying one step of a batch until it succeeds, the partition is lost, or the sink
 * stops. Never gives up on its own for a retriable error: skipping a batch would lose
 * data. Errors that cannot pass by themselves are rethrown after a few attempts.
 */
import { backoffDelay, type BackoffOptions } from "./backoff.js";

export interface RetryContext {
  /** False once the partition was revoked or the sink is stopping: abandon without side effects. */
  shouldContinue(): boolean;
  signal: AbortSignal;
  backoff: BackoffOptions;
  onRetry(what: string, attempt: number, err: unknown, delayMs: number): void;
}

export class Abandoned extends Error {
  constructor(what: string) {
    super(`${what} abandoned: partition revoked or sink stopping`);
    this.name = "Abandoned";
  }
}

export async function retrying<T>(
  what: string,
  ctx: RetryContext,
  fn: () => Promise<T>,
  { isRetriable = () => true, maxNonRetriable = 3 }: { isRetriable?: (e: unknown) => boolean; maxNonRetriable?: number } = {},
): Promise<T> {
  let nonRetriable = 0;
  for (let attempt = 1; ; attempt++) {
    if (!ctx.shouldContinue()) throw new Abandoned(what);
    try {
      return await fn();
    } catch (err) {
      if (!ctx.shouldContinue()) throw new Abandoned(what);
      if (!isRetriable(err) && ++nonRetriable >= maxNonRetriable) throw err;
      const delay = backoffDelay(attempt, ctx.backoff);
      ctx.onRetry(what, attempt, err, delay);
      await sleep(delay, ctx.signal);
    }
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
