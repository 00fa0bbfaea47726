/**
 * Per-(stream, tenant) token buckets: one noisy tenant runs out of tokens and gets 429,
 * the others keep their own buckets.
 *
 * A request takes all its events' tokens at once or none (a request is accepted or
 * refused whole). A request larger than the burst could never fit, so it is admitted
 * when the bucket is full and drives it into debt: the sustained rate still holds, the
 * tenant just waits longer for its next request.
 */
export type Clock = () => number;

export interface BucketConfig {
  eventsPerSecond: number;
  burst: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly config: BucketConfig,
    private readonly now: Clock = Date.now,
  ) {
    this.tokens = config.burst;
    this.lastMs = now();
  }

  /** Tokens available now, after refilling for the time elapsed. */
  available(): number {
    const now = this.now();
    const elapsedMs = Math.max(0, now - this.lastMs);
    this.tokens = Math.min(this.config.burst, this.tokens + (elapsedMs * this.config.eventsPerSecond) / 1000);
    this.lastMs = now;
    return this.tokens;
  }

  /** Whether `n` tokens could be taken now, and if not, how long until they could. */
  check(n: number): TakeResult {
    const need = Math.min(n, this.config.burst);
    const have = this.available();
    if (have >= need) return { ok: true };
    return { ok: false, retryAfterMs: Math.ceil(((need - have) * 1000) / this.config.eventsPerSecond) };
  }

  take(n: number): TakeResult {
    const verdict = this.check(n);
    if (verdict.ok) this.tokens -= n;
    return verdict;
  }
}

/** Buckets keyed by stream and tenant, created on first use. */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly now: Clock = Date.now,
    /** Past this many buckets, full ones are dropped: a full bucket equals a new one. */
    private readonly maxBuckets = 10_000,
  ) {}

  /**
   * Takes tokens from several buckets (one per tenant in the request) all or nothing:
   * a refused request must not spend any tenant's tokens.
   */
  takeAll(stream: string, config: BucketConfig, demand: Map<string, number>): TakeResult {
    const buckets = [...demand].map(([tenant, n]) => ({ bucket: this.bucket(stream, tenant, config), n }));
    let worst = 0;
    for (const { bucket, n } of buckets) {
      const verdict = bucket.check(n);
      if (!verdict.ok) worst = Math.max(worst, verdict.retryAfterMs);
    }
    if (worst > 0) return { ok: false, retryAfterMs: worst };
    for (const { bucket, n } of buckets) bucket.take(n);
    return { ok: true };
  }

  private bucket(stream: string, tenant: string, config: BucketConfig): TokenBucket {
    // JSON keeps (stream, tenant) pairs distinct whatever characters the names hold.
    const key = JSON.stringify([stream, tenant]);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxBuckets) this.dropFullBuckets(config);
      this.buckets.set(key, (bucket = new TokenBucket(config, this.now)));
    }
    return bucket;
  }

  private dropFullBuckets(config: BucketConfig): void {
    for (const [key, bucket] of this.buckets) if (bucket.available() >= config.burst) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}
