import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.js";
import { WorkQueue, backoffDelay } from "./queue.js";

const policy = { baseMs: 100, maxMs: 1000 };

describe("the work queue", () => {
  it("doubles the backoff per consecutive failure, capped at the maximum", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("queues a key once however often it is added", async () => {
    const q = new WorkQueue(new FakeClock(), policy);
    q.add("ns/a");
    q.add("ns/a");
    q.add("ns/b");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("ns/a");
    expect(await q.get()).toBe("ns/b");
  });

  it("when a key changes while it is processed, it is processed again after done, not concurrently", async () => {
    const q = new WorkQueue(new FakeClock(), policy);
    q.add("ns/a");
    const key = await q.get();
    q.add("ns/a");
    expect(q.length).toBe(0);
    q.done(key!);
    expect(q.length).toBe(1);
  });

  it("requeues a failed key only after its backoff has passed on the injected clock", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue(clock, policy);
    expect(q.addRateLimited("ns/a")).toBe(100);
    clock.advance(99);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
    q.done((await q.get())!);
    expect(q.addRateLimited("ns/a")).toBe(200);
    q.forget("ns/a");
    expect(q.addRateLimited("ns/b")).toBe(100);
    expect(q.failureCount("ns/a")).toBe(0);
  });

  it("keeps the earlier of two delayed adds of one key", () => {
    const clock = new FakeClock();
    const q = new WorkQueue(clock, policy);
    q.addAfter("ns/a", 500);
    q.addAfter("ns/a", 100);
    q.addAfter("ns/a", 900);
    clock.advance(100);
    expect(q.length).toBe(1);
    clock.advance(1000);
    expect(q.length).toBe(1);
  });

  it("hands a key straight to a waiting worker, and releases waiters on shutdown", async () => {
    const q = new WorkQueue(new FakeClock(), policy);
    const waiting = q.get();
    q.add("ns/a");
    expect(await waiting).toBe("ns/a");
    const next = q.get();
    q.shutDown();
    expect(await next).toBeUndefined();
  });
});
