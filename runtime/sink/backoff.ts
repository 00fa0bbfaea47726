/**
 * Exponential backoff with full jitter for retrying a batch. Pure: the caller supplies the
 * random number, so the schedule is unit-testable.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 200, maxMs: 30_000 };

/** Delay before retry number `attempt` (1-based): uniformly in [d/2, d], d = initial * 2^(attempt-1), capped. */
export function backoffDelay(attempt: number, opts: BackoffOptions = defaultBackoff, random = Math.random()): number {
  const d = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(d / 2 + (d / 2) * random);
}
