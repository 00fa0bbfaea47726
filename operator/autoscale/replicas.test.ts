import { describe, expect, it } from "vitest";
import { decide, emptyMemory, evenSplit, type Bounds, type Memory, type Observation, type Policy } from "./replicas.js";
import { readPosition } from "./observe-lag.js";
import { noise, simulateLoop, type LoopOptions } from "./simulate.js";

const policy: Policy = { lookbackMs: 30_000, scaleDownStabilizationMs: 120_000, settleTimeoutMs: 120_000 };
const bounds: Bounds = { minReplicas: 1, maxReplicas: 12, partitions: 12, targetLagSeconds: 5 };
const stable = (members: number) => ({ state: "Stable", members });

function obs(atMs: number, end: number, position: number, group = stable(1)): Observation {
  return { atMs, end, position, partitionLag: [end - position], group };
}

function simulate(o: Omit<LoopOptions, "bounds" | "policy"> & { bounds?: Partial<Bounds>; policy?: Partial<Policy> }) {
  return simulateLoop({ ...o, bounds: { ...bounds, ...o.bounds }, policy: { ...policy, ...o.policy } });
}

describe("lag autoscaler decisions", () => {
  it.each([
    { name: "12 partitions, 5 wanted", n: 5, partitions: 12, want: 4 },
    { name: "12 partitions, 7 wanted", n: 7, partitions: 12, want: 6 },
    { name: "12 partitions, 12 wanted", n: 12, partitions: 12, want: 12 },
    { name: "12 partitions, 9 wanted", n: 9, partitions: 12, want: 6 },
    { name: "10 partitions, 3 wanted", n: 3, partitions: 10, want: 3 },
    { name: "one partition", n: 1, partitions: 1, want: 1 },
  ])("even split: $name → $want", ({ n, partitions, want }) => {
    expect(evenSplit(n, partitions)).toBe(want);
  });

  it.each([
    {
      name: "a spike: a backlog far above target scales up at once, within the step bound, to an even split",
      run: () => simulate({ ticks: 40, capacity: 1_000, start: 1, incoming: (t) => (t < 60_000 ? 800 : 4_000) }),
      check: (r: ReturnType<typeof simulate>) => {
        const up = r.changes[0]!;
        expect(up.decision.reason).toBe("BacklogAboveTarget");
        expect(up.replicas).toBeLessThanOrEqual(5); // max(2 × 1, 1 + 4)
        expect(up.t).toBeLessThanOrEqual(75_000); // within three ticks of the spike
        expect(r.final.replicas).toBeGreaterThanOrEqual(4); // 4,000/s needs 4+ workers of 1,000/s
        expect(12 % r.final.replicas).toBe(0);
        expect(r.final.lag).toBeLessThan(4_000 * 5);
      },
    },
    {
      name: "steady load within capacity: no scale event at all",
      run: () => simulate({ ticks: 120, capacity: 1_000, start: 2, incoming: () => 1_500 }),
      check: (r: ReturnType<typeof simulate>) => {
        expect(r.changes).toEqual([]);
        expect(r.final.decision.reason).toBe("OnTarget");
      },
    },
    {
      name: "noisy load (±30% per tick) after settling: never flaps",
      run: () => {
        const n = noise(7, 0.3);
        return simulate({ ticks: 240, capacity: 1_000, start: 1, backlog: 20_000, incoming: () => 2_500 * (1 + n()) });
      },
      check: (r: ReturnType<typeof simulate>) => {
        const settled = r.trace.findIndex((x) => x.t >= 300_000);
        const after = r.changes.filter((c) => c.t >= r.trace[settled]!.t);
        expect(after).toEqual([]);
        expect(r.final.replicas).toBeGreaterThanOrEqual(3);
      },
    },
    {
      name: "a partition cap: 20 workers' worth of backlog gets 6 on 6 partitions",
      run: () => simulate({ ticks: 30, capacity: 500, start: 1, backlog: 500_000, incoming: () => 5_000, bounds: { partitions: 6, maxReplicas: 50 } }),
      check: (r: ReturnType<typeof simulate>) => {
        expect(Math.max(...r.trace.map((x) => x.replicas))).toBe(6);
        expect(r.trace.some((x) => /capped at 6/.test(x.decision.message))).toBe(true);
      },
    },
    {
      name: "load drops: scale down only after the stabilization window, and no lower than arrivals need",
      run: () => simulate({ ticks: 120, capacity: 1_000, start: 1, incoming: (t) => (t < 150_000 ? 5_000 : 1_000) }),
      check: (r: ReturnType<typeof simulate>) => {
        const peak = Math.max(...r.trace.map((x) => x.replicas));
        expect(peak).toBeGreaterThanOrEqual(6);
        // 5,000/s needed 5+ workers; fewer only once the drop is a whole window old.
        const below = r.changes.find((c) => c.t > 150_000 && c.replicas < 5)!;
        expect(below.t).toBeGreaterThanOrEqual(150_000 + policy.scaleDownStabilizationMs);
        expect(r.trace.some((x) => x.decision.reason === "ScaleDownStabilizing")).toBe(true);
        expect(r.final.replicas).toBeGreaterThanOrEqual(2); // 1,000/s at 80% of 1,000/s each
        expect(r.final.replicas).toBeLessThan(peak);
      },
    },
  ])("$name", ({ run, check }) => {
    check(run());
  });

  it.each([
    { name: "Kafka unreachable", observation: undefined, error: "connect ECONNREFUSED", reason: "MetricsUnavailable" },
    { name: "a rebalance in progress", observation: obs(10_000, 100_000, 0, { state: "PreparingRebalance", members: 2 }), reason: "RebalanceSettling" },
    { name: "members still joining", observation: obs(10_000, 100_000, 0, stable(2)), reason: "RebalanceSettling" },
    { name: "workers making no progress", observation: obs(10_000, 100_000, 0, stable(4)), reason: "NoProgress" },
  ])("holds on $name, whatever the lag, and says why", ({ observation, error, reason }) => {
    const memory = { ...emptyMemory(), samples: [obs(0, 50_000, 0, stable(4))], capacity: 100, lastChange: { atMs: -1e9, replicas: 4 } };
    const d = decide({ nowMs: 10_000, observation, error, current: 4, bounds, policy, memory });
    expect(d.replicas).toBe(4);
    expect(d.reason).toBe(reason);
    if (error) expect(d.message).toContain(error);
  });

  it("says the same thing while nothing changes, so an idle resource's status is not rewritten", () => {
    const at = (nowMs: number, oldestMs: number) => {
      const memory = { ...emptyMemory(), samples: [obs(oldestMs, 50_000, 0, stable(4))], lastChange: { atMs: -1e9, replicas: 4 } };
      return decide({ nowMs, observation: obs(nowMs, 50_000, 0, stable(4)), current: 4, bounds, policy, memory });
    };
    expect(at(30_000, 1_000)).toMatchObject({ reason: "NoProgress" });
    expect(at(30_000, 1_000).message).toBe(at(31_000, 3_000).message);
  });

  it("a Kafka outage never scales down, let alone to zero, even where zero is allowed", () => {
    let memory: Memory = emptyMemory();
    let current = 3;
    for (let t = 0; t < 600_000; t += 5_000) {
      const d = decide({ nowMs: t, error: "all brokers down", current, bounds: { ...bounds, minReplicas: 0 }, policy, memory });
      memory = d.memory;
      current = d.replicas;
      expect(d.reason).toBe("MetricsUnavailable");
    }
    expect(current).toBe(3);
  });

  it("a rebalance that never settles (pods Pending) holds only for the settle timeout", () => {
    const memory = { ...emptyMemory(), samples: [obs(0, 100_000, 0, { state: "Stable", members: 1 })], capacity: 1_000, lastChange: { atMs: 0, replicas: 4 } };
    const at = (nowMs: number) => decide({ nowMs, observation: obs(nowMs, 100_000 + nowMs, nowMs / 2, stable(1)), current: 4, bounds, policy: { ...policy, lookbackMs: 1e9 }, memory });
    expect(at(60_000).reason).toBe("RebalanceSettling");
    expect(at(130_000).reason).not.toBe("RebalanceSettling");
  });

  it.each([
    { name: "allowed (minReplicas 0): an idle pipeline stops after the window, and any lag wakes it", min: 0, idle: 0 },
    { name: "not allowed (minReplicas 1): an idle pipeline keeps one worker", min: 1, idle: 1 },
  ])("scale to zero $name", ({ min, idle }) => {
    const r = simulate({ ticks: 80, capacity: 1_000, start: 2, bounds: { minReplicas: min }, incoming: (t) => (t < 30_000 ? 500 : t < 300_000 ? 0 : 50) });
    const at = (t: number) => r.trace.find((x) => x.t >= t)!;
    expect(at(120_000).replicas).toBeGreaterThanOrEqual(1); // not before the window
    expect(at(290_000).replicas).toBe(idle);
    if (min === 0) {
      expect(at(290_000).decision.reason).toBe("Idle");
      expect(r.changes.find((c) => c.t >= 300_000)?.decision.reason).toBe("WakeOnLag");
      expect(r.final.replicas).toBe(1);
    }
  });

  it("a count outside the bounds is corrected at once, metrics or not", () => {
    const d = decide({ nowMs: 0, error: "down", current: 20, bounds, policy, memory: emptyMemory() });
    expect(d).toMatchObject({ replicas: 12, reason: "OutOfBounds" });
    expect(d.lagMessages).toBeUndefined();
  });

  it("the correction of an out-of-bounds count reports the lag it read", () => {
    const d = decide({ nowMs: 0, observation: obs(0, 1_500, 1_000), current: 20, bounds, policy, memory: emptyMemory() });
    expect(d).toMatchObject({ replicas: 12, reason: "OutOfBounds", lagMessages: 500 });
  });

  it("acts on lag above target only when a second sample confirms it", () => {
    const memory = { ...emptyMemory(), samples: [obs(0, 1_000, 1_000)], capacity: 1_000, lastChange: { atMs: -1e9, replicas: 1 } };
    // Load that just started: the window's rates are diluted and one sample looks 20 s behind.
    const first = decide({ nowMs: 5_000, observation: obs(5_000, 1_400, 1_010), current: 1, bounds, policy, memory });
    expect(first.replicas).toBe(1);
    expect(first.message).toContain("confirming");
    // Caught up by the next sample: nothing happens.
    const caughtUp = decide({ nowMs: 10_000, observation: obs(10_000, 2_900, 2_800), current: 1, bounds, policy, memory: first.memory });
    expect(caughtUp.replicas).toBe(1);
    // Still behind on the next sample: scale.
    const behind = decide({ nowMs: 10_000, observation: obs(10_000, 60_000, 1_100), current: 1, bounds, policy, memory: first.memory });
    expect(behind).toMatchObject({ reason: "BacklogAboveTarget" });
    expect(behind.replicas).toBeGreaterThan(1);
  });

  it("measures capacity only from windows the group was settled for throughout", () => {
    // 12 members just finished a rebalance: restarting from their commits, they work off
    // little while a big backlog waits. That is not what they can do.
    const samples = [obs(0, 100_000, 0, stable(12))];
    const memory = { ...emptyMemory(), samples, capacity: 2_500, lastChange: { atMs: -1e9, replicas: 12 } };
    const justSettled = decide({ nowMs: 10_000, observation: obs(10_000, 140_000, 3_000, stable(12)), current: 12, bounds, policy, memory });
    expect(justSettled.capacityPerReplica).toBe(2_500);
    const settledThroughout = decide({ nowMs: 10_000, observation: obs(10_000, 140_000, 3_000, stable(12)), current: 12, bounds, policy, memory: { ...memory, stableSince: 0 } });
    expect(settledThroughout.capacityPerReplica).toBe((2_500 + 300 / 12) / 2);
  });

  it("warms up on the first sample: no rate yet, no change", () => {
    const d = decide({ nowMs: 0, observation: obs(0, 1_000_000, 0), current: 1, bounds, policy, memory: emptyMemory() });
    expect(d).toMatchObject({ replicas: 1, reason: "Warming", lagMessages: 1_000_000 });
  });
});

describe("an aggregation's read position", () => {
  it.each([
    { name: "the commit when there is no metadata", offset: 10, metadata: null, want: 10 },
    { name: "the checkpoint's read position when further", offset: 10, metadata: JSON.stringify({ v: 1, w: 0, n: 250, m: 0 }), want: 250 },
    { name: "the commit when the metadata is behind it", offset: 300, metadata: JSON.stringify({ v: 1, n: 250 }), want: 300 },
    { name: "the commit when the metadata is not ours", offset: 10, metadata: "{not json", want: 10 },
    { name: "never committed", offset: -1, metadata: JSON.stringify({ n: 5 }), want: -1 },
  ])("is $name", ({ offset, metadata, want }) => {
    expect(readPosition(offset, metadata)).toBe(want);
  });
});
