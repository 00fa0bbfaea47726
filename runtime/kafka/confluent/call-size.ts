/**
 * How many records the consumer asks of one consume() call. A result is handled in one
 * stretch of the event loop (its batches follow one another without I/O in between but for
 * a yield per batch), so a worker on a small CPU share (the autoscaling test's 50m pods)
 * answered no probe for seconds per 1,000-record result, and its liveness probe killed it
 * in a loop. The size halves while handling a result takes longer than twice the target,
 * and doubles back, up to the most, while full results take under half of it: a worker with
 * a core keeps 1,000 per call (the measured best, consumer.ts), a starved one reads less
 * per call and stays responsive.
 */
export class CallSize {
  #current: number;

  constructor(
    private readonly most = 1_000,
    private readonly least = 10,
    private readonly targetMs = 100,
  ) {
    this.#current = most;
  }

  get current(): number {
    return this.#current;
  }

  /** A result of `records` records took `ms` of wall time to hand to the worker. */
  observe(records: number, ms: number): void {
    if (ms > 2 * this.targetMs && records > this.least) this.#current = Math.max(this.least, Math.min(this.#current, records) >> 1);
    else if (ms < this.targetMs / 2 && records >= this.#current) this.#current = Math.min(this.most, this.#current * 2);
  }
}
