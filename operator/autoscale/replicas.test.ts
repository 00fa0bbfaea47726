import { describe, expect, it } from "vitest";
import { autoscale, type AutoscaleInput } from "./replicas.js";

const base = (over: Partial<AutoscaleInput>): AutoscaleInput => ({
  sample: { atMs: 10_000, produced: 0, consumed: 0 },
  current: 2,
  minReplicas: 1,
  maxReplicas: 10,
  partitions: 12,
  targetLagSeconds: 5,
  history: [],
  ...over,
});

describe("lag-based autoscaling", () => {
  it("keeps the current count while the consumption rate is unknown (first sample), never going to zero", () => {
    const d = autoscale(base({ sample: { atMs: 0, produced: 5000, consumed: 0 } }));
    expect(d).toMatchObject({ replicas: 2, lagMessages: 5000 });
    expect(d.lagSeconds).toBeUndefined();
  });

  it("keeps the current count when nothing was consumed but lag exists (workers down: no rate to size from)", () => {
    const d = autoscale(base({ previous: { atMs: 0, produced: 0, consumed: 0 }, sample: { atMs: 10_000, produced: 1000, consumed: 0 } }));
    expect(d.replicas).toBe(2);
  });

  it("scales up at once to keep up with arrivals and drain the lag within the target", () => {
    // 2 replicas consume 200/s (100/s each); 300/s arrive; lag 1000 -> (300 + 1000/5) / 100 = 5
    const d = autoscale(base({ previous: { atMs: 0, produced: 0, consumed: 0 }, sample: { atMs: 10_000, produced: 3000, consumed: 2000 } }));
    expect(d).toMatchObject({ replicas: 5, lagMessages: 1000, lagSeconds: 5 });
  });

  it("is capped by maxReplicas and by the partition count", () => {
    const hot = { previous: { atMs: 0, produced: 0, consumed: 0 }, sample: { atMs: 10_000, produced: 1_000_000, consumed: 2000 } };
    expect(autoscale(base({ ...hot, partitions: 6 })).replicas).toBe(6);
    expect(autoscale(base({ ...hot, maxReplicas: 4 })).replicas).toBe(4);
  });

  it("once caught up, steps down one replica at a time, and not below a recommendation of the last five minutes", () => {
    const idle = { previous: { atMs: 0, produced: 0, consumed: 0 }, sample: { atMs: 400_000, produced: 1000, consumed: 1000 }, current: 6 };
    expect(autoscale(base({ ...idle, history: [] }))).toMatchObject({ replicas: 5, recommendation: 5, lagMessages: 0 });
    // 9 was recommended 50 s before the window began: forgotten. 6 within it: kept.
    expect(autoscale(base({ ...idle, history: [{ atMs: 50_000, replicas: 9 }] })).replicas).toBe(5);
    expect(autoscale(base({ ...idle, history: [{ atMs: 200_000, replicas: 6 }] })).replicas).toBe(6);
    expect(autoscale(base({ ...idle, current: 1 })).replicas).toBe(1);
  });
});
