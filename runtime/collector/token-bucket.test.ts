import { describe, expect, it } from "vitest";
import { RateLimiter, TokenBucket } from "./token-bucket.js";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("TokenBucket", () => {
  it("starts full and refuses once the burst is spent", () => {
    const c = clock();
    const b = new TokenBucket({ eventsPerSecond: 10, burst: 5 }, c.now);
    expect(b.take(5)).toEqual({ ok: true });
    expect(b.take(1)).toEqual({ ok: false, retryAfterMs: 100 });
  });

  it("refills at the configured rate, never beyond the burst", () => {
    const c = clock();
    const b = new TokenBucket({ eventsPerSecond: 10, burst: 5 }, c.now);
    b.take(5);
    c.advance(300);
    expect(b.available()).toBeCloseTo(3);
    c.advance(60_000);
    expect(b.available()).toBe(5);
  });

  it("says how long until a refused request would fit", () => {
    const c = clock();
    const b = new TokenBucket({ eventsPerSecond: 4, burst: 8 }, c.now);
    b.take(8);
    expect(b.take(6)).toEqual({ ok: false, retryAfterMs: 1500 });
    c.advance(1500);
    expect(b.take(6)).toEqual({ ok: true });
  });

  it("admits a request larger than the burst only from a full bucket, then owes the difference", () => {
    const c = clock();
    const b = new TokenBucket({ eventsPerSecond: 10, burst: 5 }, c.now);
    expect(b.take(20)).toEqual({ ok: true });
    expect(b.available()).toBe(-15);
    expect(b.take(1)).toEqual({ ok: false, retryAfterMs: 1600 });
  });

  it("does not refill when the clock goes backwards", () => {
    const c = clock();
    const b = new TokenBucket({ eventsPerSecond: 10, burst: 5 }, c.now);
    b.take(5);
    c.advance(-10_000);
    expect(b.available()).toBe(0);
  });
});

describe("RateLimiter", () => {
  const config = { eventsPerSecond: 1, burst: 3 };

  it("keeps one bucket per stream and tenant, so one tenant's flood leaves the others alone", () => {
    const limiter = new RateLimiter(clock().now);
    expect(limiter.takeAll("s", config, new Map([["a", 3]]))).toEqual({ ok: true });
    expect(limiter.takeAll("s", config, new Map([["a", 1]])).ok).toBe(false);
    expect(limiter.takeAll("s", config, new Map([["b", 3]]))).toEqual({ ok: true });
    expect(limiter.takeAll("other", config, new Map([["a", 3]]))).toEqual({ ok: true });
  });

  it("when one tenant of a request is over its limit, it spends no tenant's tokens", () => {
    const limiter = new RateLimiter(clock().now);
    limiter.takeAll("s", config, new Map([["a", 3]]));
    const verdict = limiter.takeAll("s", config, new Map([["b", 2], ["a", 1]]));
    expect(verdict).toEqual({ ok: false, retryAfterMs: 1000 });
    expect(limiter.takeAll("s", config, new Map([["b", 3]]))).toEqual({ ok: true });
  });

  it("drops full buckets when it holds too many, keeping the ones in debt", () => {
    const c = clock();
    const limiter = new RateLimiter(c.now, 2);
    limiter.takeAll("s", config, new Map([["busy", 3]]));
    limiter.takeAll("s", config, new Map([["idle", 0]]));
    limiter.takeAll("s", config, new Map([["new", 1]]));
    expect(limiter.size).toBe(2);
    expect(limiter.takeAll("s", config, new Map([["busy", 1]])).ok).toBe(false);
  });
});
