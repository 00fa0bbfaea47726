/**
 * A closed loop in miniature, for tests and the formula comparison: each replica works off
 * `capacity` messages per second, new pods join the group `startupMs` after a scale, and a
 * decision function is called every `tickMs` with what Kafka would report.
 */
import { decide, emptyMemory, type Bounds, type Decision, type Memory, type Policy } from "./replicas.js";

export interface LoopOptions {
  ticks: number;
  /** Offered messages per second at time t (ms). */
  incoming: (tMs: number) => number;
  capacity: number;
  start: number;
  bounds: Bounds;
  policy: Policy;
  startupMs?: number;
  tickMs?: number;
  backlog?: number;
}

export interface LoopStep {
  t: number;
  replicas: number;
  lag: number;
  decision: Decision;
}

/** What a decision function sees each tick; the memory is its own business. */
export type Decider = (s: { nowMs: number; end: number; position: number; current: number; members: number; stable: boolean }) => Decision;

export function sluiceDecider(bounds: Bounds, policy: Policy): Decider {
  let memory: Memory = emptyMemory();
  return (s) => {
    const group = s.stable ? { state: "Stable", members: s.members } : { state: "PreparingRebalance", members: s.members };
    const d = decide({ nowMs: s.nowMs, observation: { atMs: s.nowMs, end: Math.round(s.end), position: Math.round(s.position), partitionLag: [], group }, current: s.current, bounds, policy, memory });
    memory = d.memory;
    return d;
  };
}

export function simulateLoop(o: LoopOptions, decider: Decider = sluiceDecider(o.bounds, o.policy)) {
  const tickMs = o.tickMs ?? 5_000;
  let end = o.backlog ?? 0;
  let position = 0;
  let replicas = o.start;
  let ready = o.start;
  let changedAt = -Infinity;
  const trace: LoopStep[] = [];
  for (let k = 0; k < o.ticks; k++) {
    const t = k * tickMs;
    if (t - changedAt >= (o.startupMs ?? 10_000)) ready = replicas;
    end += o.incoming(t) * (tickMs / 1000);
    position += Math.min(end - position, ready * o.capacity * (tickMs / 1000));
    const d = decider({ nowMs: t, end, position, current: replicas, members: Math.min(ready, replicas), stable: ready === replicas });
    if (d.replicas !== replicas) {
      if (d.replicas < replicas) ready = Math.min(ready, d.replicas);
      replicas = d.replicas;
      changedAt = t;
    }
    trace.push({ t, replicas, lag: Math.round(end - position), decision: d });
  }
  const changes = trace.filter((x, k) => k > 0 && x.replicas !== trace[k - 1]!.replicas);
  return { trace, changes, final: trace[trace.length - 1]! };
}

/** A reproducible noise in [-amplitude, amplitude]. */
export function noise(seed: number, amplitude: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return ((s / 2 ** 31) * 2 - 1) * amplitude;
  };
}
