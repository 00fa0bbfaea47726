/**
 * Holds a consumer's rebalances back while a consume() result is being read.
 *
 * librdkafka serves a rebalance inside consume(), which the binding runs in a worker
 * thread; the binding passes it to JavaScript later, on its own. A result can therefore hold
 * records served before a revocation while the revocation and the next assignment reach
 * JavaScript first. Applied at once, the worker would learn of its new assignment (and
 * restart each partition from its committed offset) and then receive records fetched under
 * the old one, past that committed offset: a gap in what it reads. Held here, every record
 * of a result is delivered before the rebalance that followed it, as it happened.
 *
 * Holding an eager rebalance is what librdkafka expects: it waits for the application's
 * assign or unassign call, and no records flow for the partitions in between.
 */
export class RebalanceGate {
  #reading = false;
  #closed = false;
  readonly #held: (() => void)[] = [];

  /** A consume() call starts: rebalances wait until its records are delivered. */
  enter(): void {
    this.#reading = true;
  }

  /** Its records are delivered: apply what waited, in arrival order. */
  leave(): void {
    this.#reading = false;
    for (const f of this.#held.splice(0)) f();
  }

  /** Applies a rebalance now, or when the result being read is delivered. */
  apply(f: () => void): void {
    if (this.#reading && !this.#closed) this.#held.push(f);
    else f();
  }

  /** Nothing reads any more (the consumer is closing): everything applies at once. */
  close(): void {
    this.#closed = true;
    this.leave();
  }
}
