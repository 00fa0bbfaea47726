/**
 * What a worker is retrying right now, for people rather than Prometheus: the ops
 * endpoint serves it as /status and the operator copies it into the Sink's or
 * Aggregation's `Retrying` condition, so `kubectl get` says "commit retrying since 14:02,
 * coordinator moved" while a broker fails over. Steps that ended in the last few minutes
 * stay listed under `recent`, so a retry that passed between two looks is still seen.
 *
 * Retries of the same step on several partitions are one line: the earliest start, the
 * most attempts, the newest error.
 */
export type RetrySystem = "kafka" | "clickhouse";

export interface RetryLine {
  system: RetrySystem;
  step: string;
  /** How many retrying operations (usually partitions) this line stands for. */
  operations: number;
  /** ISO time of the first failure of the oldest operation still retrying (or of the line's). */
  since: string;
  /** 0 while the first attempt is still waiting for an answer (see RetryBoard.waiting). */
  attempts: number;
  error: string;
  /** One of the operations, e.g. "commit p3 1200", as in the worker's log. */
  example: string;
}

export interface EndedRetryLine extends RetryLine {
  endedAt: string;
}

export interface RetryReport {
  retrying: RetryLine[];
  recent: EndedRetryLine[];
}

interface Active {
  system: RetrySystem;
  step: string;
  since: number;
  attempts: number;
  error: string;
}

const MAX_ERROR_CHARS = 300;

export class RetryBoard {
  private readonly active = new Map<string, Active>();
  private readonly ended = new Map<string, EndedRetryLine>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly keepEndedMs = 5 * 60_000,
  ) {}

  /** An operation (`what`) failed and will be tried again (RetryContext.onRetry). */
  retrying(what: string, system: RetrySystem, step: string, attempt: number, err: unknown): void {
    const a = this.active.get(what);
    const error = errorText(err);
    if (a) Object.assign(a, { attempts: Math.max(a.attempts, attempt), error });
    else this.active.set(what, { system, step, since: this.now(), attempts: attempt, error });
  }

  /**
   * An attempt has had no answer for `waitedMs` (RetryContext.onSlow): shown with 0
   * attempts and "no answer" until it answers, fails (then it is `retrying`) or ends.
   */
  waiting(what: string, system: RetrySystem, step: string, waitedMs: number): void {
    if (this.active.has(what)) return;
    this.active.set(what, { system, step, since: this.now() - waitedMs, attempts: 0, error: `no answer after ${Math.round(waitedMs / 1000)} s` });
  }

  /** The operation ended, succeeded or not (RetryContext.onSettled). Returns whether it had failed at least once. */
  settled(what: string): boolean {
    const a = this.active.get(what);
    if (!a) return false;
    this.active.delete(what);
    const key = `${a.system}/${a.step}`;
    const prev = this.ended.get(key);
    this.ended.set(key, {
      system: a.system, step: a.step, example: what, error: a.error,
      operations: (prev?.operations ?? 0) + 1,
      since: iso(Math.min(a.since, prev ? Date.parse(prev.since) : Infinity)),
      attempts: Math.max(a.attempts, prev?.attempts ?? 0),
      endedAt: iso(this.now()),
    });
    return a.attempts > 0;
  }

  report(): RetryReport {
    const now = this.now();
    for (const [key, e] of this.ended) if (now - Date.parse(e.endedAt) > this.keepEndedMs) this.ended.delete(key);
    const lines = new Map<string, RetryLine & { sinceMs: number }>();
    for (const [what, a] of this.active) {
      const key = `${a.system}/${a.step}`;
      const l = lines.get(key);
      if (!l) lines.set(key, { system: a.system, step: a.step, operations: 1, since: iso(a.since), sinceMs: a.since, attempts: a.attempts, error: a.error, example: what });
      else {
        l.operations += 1;
        l.attempts = Math.max(l.attempts, a.attempts);
        l.error = a.error;
        if (a.since < l.sinceMs) Object.assign(l, { sinceMs: a.since, since: iso(a.since), example: what });
      }
    }
    const retrying = [...lines.values()].map(({ sinceMs: _, ...l }) => l).sort((a, b) => a.since.localeCompare(b.since) || a.step.localeCompare(b.step));
    const recent = [...this.ended.values()].sort((a, b) => b.endedAt.localeCompare(a.endedAt));
    return { retrying, recent };
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}
