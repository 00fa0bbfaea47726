/**
 * Bounds the bytes on their way to Kafka. When Kafka is slow, requests wait for acks
 * while holding their events in memory; past the budget new requests get 503 instead of
 * queueing without bound.
 */
export class ByteBudget {
  private used = 0;

  constructor(
    readonly limit: number,
    private readonly onChange: (used: number) => void = () => {},
  ) {}

  /**
   * Reserves `bytes`, or returns false when they do not fit. A batch larger than the
   * whole budget is admitted only when nothing else is in flight, so it is slow, not
   * refused forever.
   */
  tryAcquire(bytes: number): boolean {
    if (this.used > 0 && this.used + bytes > this.limit) return false;
    this.used += bytes;
    this.onChange(this.used);
    return true;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    this.onChange(this.used);
  }

  get inFlight(): number {
    return this.used;
  }
}
