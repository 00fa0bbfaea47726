/**
 * Replicas from consumer lag: a pure function of what was observed in Kafka, the bounds,
 * and the autoscaler's memory. Everything it reads comes from Kafka's admin API
 * (observe-lag.ts); nothing else has to be deployed.
 *
 * Rates, over the lookback window (oldest sample in it against the newest):
 *   incoming  = Δ Σ log-end offsets / Δt        (what producers add)
 *   consumed  = Δ Σ consumed positions / Δt     (what the group works off)
 *   lag       = Σ (log-end − consumed position) (messages);  lagSeconds = lag / consumed
 *
 * Per-replica capacity `c` is measured online: consumed / group members, from a window with
 * no scale change and a group Stable throughout (one member per replica). It is the capacity only while the workers are saturated
 * (more than max(2 s, target/2) of work queued at both ends of the window); otherwise it is a
 * lower bound and only ever raises `c`. Saturated windows replace it (halfway: c = (c + s)/2).
 *
 * The decision, with T = targetLagSeconds and P = partitions:
 *   behind   (lagSeconds > T on two samples in a row): needed = ceil((incoming + lag / T) / c)
 *            enough to keep up with arrivals *and* drain the backlog within T;
 *   on target:                 needed = min(current, ceil(incoming / (0.8 · c)))
 *            never more while the target is met; fewer once 80% of fewer workers' measured
 *            capacity covers arrivals (no `c` measured yet: hold);
 *   idle     (no lag, nothing arriving, minReplicas 0): 0.
 * Then:
 *   bounds   clamp to [minReplicas, min(maxReplicas, P)]; a worker beyond P would sit idle;
 *   split    n → ceil(P / ceil(P / n)): the fewest workers with the same most-partitions-per-
 *            worker, hence the same draining speed (12 partitions: 5 → 4, 7 → 6);
 *   up       at once, at most max(2 · current, current + 4) per decision;
 *   down     only to the highest recommendation of the last `scaleDownStabilizationMs`,
 *            so a lull does not shed workers the next burst needs (no flapping).
 * Holds:
 *   out of bounds first: a count outside [min, ceiling] is clamped whatever the metrics say;
 *   not observed (Kafka unreachable, group unknown): keep the current count, say why;
 *   warming (under two samples in the window): keep, except wake from zero on any lag;
 *   settling (group not Stable, or members ≠ replicas, for up to `settleTimeoutMs`): keep;
 *   no progress (lag, workers, nothing consumed): keep: more workers would not help.
 * Missing metrics never scale down, and nothing but an observed idle pipeline scales to zero.
 */
export interface Observation {
  atMs: number;
  /** Σ over partitions of the log-end offset. */
  end: number;
  /** Σ over partitions of the group's consumed position (see observe-lag.ts). */
  position: number;
  /** Per-partition lag, for status and the largest partition's share. */
  partitionLag: readonly number[];
  group: { state: string; members: number };
}

export interface Bounds {
  minReplicas: number;
  maxReplicas: number;
  partitions: number;
  targetLagSeconds: number;
}

export interface Policy {
  lookbackMs: number;
  scaleDownStabilizationMs: number;
  settleTimeoutMs: number;
}

export const DEFAULT_POLICY: Policy = { lookbackMs: 30_000, scaleDownStabilizationMs: 120_000, settleTimeoutMs: 120_000 };

/** What the autoscaler remembers per worker between decisions. */
export interface Memory {
  /** Observations within the lookback window, oldest first. */
  samples: Observation[];
  /** Measured messages per second one replica works off. */
  capacity?: number;
  /** When the replica count last changed (by us or anyone), and to what. */
  lastChange?: { atMs: number; replicas: number };
  /** When lag was first seen above target (a second sample confirms it). */
  behindSince?: number;
  /** Since when the group has been Stable with one member per replica. */
  stableSince?: number;
  /** Since when the group has not been Stable with one member per replica. */
  unsettledSince?: number;
  /** Recommendations (before the scale-down window) within the window, oldest first. */
  recommendations: { atMs: number; replicas: number }[];
}

export const emptyMemory = (): Memory => ({ samples: [], recommendations: [] });

export type Reason =
  | "OutOfBounds"
  | "MetricsUnavailable"
  | "Warming"
  | "WakeOnLag"
  | "RebalanceSettling"
  | "NoProgress"
  | "BacklogAboveTarget"
  | "OnTarget"
  | "LoadDropped"
  | "ScaleDownStabilizing"
  | "Idle";

export interface Decision {
  replicas: number;
  reason: Reason;
  /** One line for status, Events and logs. */
  message: string;
  lagMessages?: number;
  lagSeconds?: number;
  incomingPerSecond?: number;
  consumedPerSecond?: number;
  capacityPerReplica?: number;
  /** The recommendation before the scale-down window. */
  recommendation: number;
  memory: Memory;
}

export interface Input {
  nowMs: number;
  /** Undefined when Kafka could not be read; `error` says why. */
  observation?: Observation;
  error?: string;
  /** The Deployment's replicas now (whoever set them). */
  current: number;
  bounds: Bounds;
  policy?: Policy;
  memory: Memory;
}

const HEADROOM = 0.8;

export function decide(i: Input): Decision {
  const policy = i.policy ?? DEFAULT_POLICY;
  const { minReplicas, maxReplicas, partitions, targetLagSeconds: T } = i.bounds;
  const ceiling = Math.max(minReplicas, Math.min(maxReplicas, partitions));
  const clamp = (n: number) => Math.min(ceiling, Math.max(minReplicas, n));
  const current = i.current;
  const lastChange = i.memory.lastChange?.replicas === current ? i.memory.lastChange : { atMs: i.nowMs, replicas: current };
  const memory: Memory = { ...i.memory, lastChange };

  const hold = (reason: Reason, message: string, extra: Partial<Decision> = {}): Decision => ({
    replicas: current, reason, message, recommendation: current, ...extra,
    memory: { ...memory, recommendations: keep(memory.recommendations, i.nowMs, policy.scaleDownStabilizationMs, current) },
  });

  const o = i.observation;
  // Bounds first: a count someone set outside them (or a bound just changed) is corrected
  // whatever the metrics say, except that a stopped worker waits for lag to wake it.
  if (current > ceiling || (current < minReplicas && !(current === 0 && minReplicas === 0))) {
    const replicas = clamp(current);
    memory.lastChange = { atMs: i.nowMs, replicas };
    // The lag was read for this decision: report it, or kubectl's LAG column goes blank
    // for the reconcile that corrects the count.
    const lag = o ? { lagMessages: Math.max(0, o.end - o.position) } : {};
    return { replicas, reason: "OutOfBounds", message: `scale ${current} → ${replicas}: outside [${minReplicas}, ${ceiling}] (max ${maxReplicas}, ${partitions} partitions)`, ...lag, recommendation: replicas, memory: { ...memory, samples: o ? [...memory.samples, o] : memory.samples, recommendations: keep(memory.recommendations, i.nowMs, policy.scaleDownStabilizationMs, replicas) } };
  }
  if (!o) return hold("MetricsUnavailable", `lag not observed, holding ${current}: ${i.error ?? "no observation"}`);
  memory.samples = [...i.memory.samples.filter((s) => s.atMs >= o.atMs - policy.lookbackMs && s.atMs < o.atMs), o];
  const lagMessages = Math.max(0, o.end - o.position);
  const oldest = memory.samples[0]!;
  if (oldest === o) {
    if (current === 0 && lagMessages > 0) return wake(lagMessages);
    return hold("Warming", `first lag sample (${lagMessages} messages), holding ${current}`, { lagMessages });
  }
  const seconds = (o.atMs - oldest.atMs) / 1000;
  const incoming = Math.max(0, o.end - oldest.end) / seconds;
  const consumed = Math.max(0, o.position - oldest.position) / seconds;
  const lagSeconds = consumed > 0 ? lagMessages / consumed : lagMessages === 0 ? 0 : undefined;
  const seen = { lagMessages, lagSeconds, incomingPerSecond: incoming, consumedPerSecond: consumed };

  if (current === 0) {
    if (lagMessages > 0 || incoming > 0) return wake(lagMessages);
    return hold("Idle", "no lag and nothing arriving: stays at 0", seen);
  }

  const groupSettled = o.group.state === "Stable" && o.group.members === current;
  if (groupSettled) {
    delete memory.unsettledSince;
    memory.stableSince ??= i.nowMs;
  } else {
    memory.unsettledSince ??= Math.max(lastChange.atMs, memory.samples[memory.samples.length - 2]?.atMs ?? i.nowMs);
    delete memory.stableSince;
  }
  const settling = !groupSettled && i.nowMs - memory.unsettledSince! < policy.settleTimeoutMs;
  // Capacity: only from a window the current count ran for whole, with the group settled
  // for all of it. A window that saw a rebalance end shows members restarting from their
  // commits, not what they can do: on the node, such samples dragged the estimate from
  // ~2,500/s to ~300/s per pod and held 12 pods where 2 would do.
  const members = o.group.members > 0 ? o.group.members : current;
  if (groupSettled && lastChange.atMs <= oldest.atMs && memory.stableSince! <= oldest.atMs && consumed > 0) {
    const sample = consumed / members;
    const saturatedAt = Math.max(2, T / 2) * consumed;
    const saturated = lagMessages >= saturatedAt && Math.max(0, oldest.end - oldest.position) >= saturatedAt;
    memory.capacity = saturated ? (memory.capacity === undefined ? sample : (memory.capacity + sample) / 2) : Math.max(memory.capacity ?? 0, sample);
  }
  const c = memory.capacity;
  const withC = { ...seen, capacityPerReplica: c };
  if (settling) return hold("RebalanceSettling", `group ${o.group.state} with ${o.group.members} of ${current} members: holding until it settles`, withC);

  if (lagSeconds === undefined || lagSeconds <= T) delete memory.behindSince;
  let needed: number;
  let reason: Reason;
  if (lagMessages === 0 && incoming === 0 && minReplicas === 0) {
    needed = 0;
    reason = "Idle";
  } else if (lagSeconds === undefined) {
    // No clock-derived numbers in the message: status is written only when it changes.
    return hold("NoProgress", `${lagMessages} messages behind and nothing consumed in the lookback window: more workers would not help, holding ${current}`, withC);
  } else if (lagSeconds > T && memory.behindSince !== undefined) {
    const per = c ?? consumed / members;
    needed = Math.ceil((incoming + lagMessages / T) / per);
    reason = "BacklogAboveTarget";
  } else if (lagSeconds > T) {
    // Seen once: confirm on the next sample. A single sample can be far off (load that just
    // started is diluted in the window's rates; a commit can be late), and acting on it
    // would add workers that the scale-down window then keeps for minutes.
    memory.behindSince = i.nowMs;
    return hold("OnTarget", `lag ${lagMessages} (${lagSeconds.toFixed(1)} s) above the ${T} s target: confirming on the next sample, holding ${current}`, withC);
  } else {
    needed = c === undefined ? current : Math.min(current, Math.max(1, Math.ceil(incoming / (HEADROOM * c))));
    reason = needed < current ? "LoadDropped" : "OnTarget";
  }
  const recommendation = needed === 0 ? 0 : evenSplit(clamp(needed), partitions);
  const recommendations = keep(memory.recommendations, i.nowMs, policy.scaleDownStabilizationMs, recommendation);
  let replicas: number;
  if (recommendation > current) {
    replicas = evenSplit(Math.min(recommendation, Math.max(2 * current, current + 4)), partitions);
  } else {
    replicas = Math.max(...recommendations.map((r) => r.replicas));
    if (replicas > current) replicas = current;
    if (recommendation < current && replicas === current) reason = "ScaleDownStabilizing";
  }
  if (replicas !== current) memory.lastChange = { atMs: i.nowMs, replicas };
  const rate = (n: number) => `${Math.round(n)}/s`;
  const lagText = `lag ${lagMessages} (${lagSeconds === undefined ? "?" : lagSeconds.toFixed(1)} s, target ${T} s), in ${rate(incoming)}, out ${rate(consumed)}${c ? `, ${rate(c)} per replica` : ""}`;
  const verb = replicas > current ? `scale ${current} → ${replicas}` : replicas < current ? `scale ${current} → ${replicas}` : `hold ${current}`;
  const capped = needed > ceiling && needed > 0 ? ` (capped at ${ceiling}: ${needed} wanted, ${partitions} partitions, max ${maxReplicas})` : "";
  const waiting = reason === "ScaleDownStabilizing" ? ` (${recommendation} would do; waiting out ${policy.scaleDownStabilizationMs / 1000} s)` : "";
  return { replicas, reason, message: `${verb}: ${lagText}${capped}${waiting}`, recommendation, ...withC, memory: { ...memory, recommendations } };

  function wake(lag: number): Decision {
    const replicas = Math.max(1, clamp(1));
    memory.lastChange = { atMs: i.nowMs, replicas };
    return { replicas, reason: "WakeOnLag", message: `scale 0 → ${replicas}: ${lag} messages waiting`, lagMessages: lag, recommendation: replicas, memory: { ...memory, recommendations: keep(memory.recommendations, i.nowMs, policy.scaleDownStabilizationMs, replicas) } };
  }
}

/** The fewest workers that give the same most-partitions-per-worker as `n`. */
export function evenSplit(n: number, partitions: number): number {
  if (n <= 0 || partitions <= 0) return n;
  return Math.ceil(partitions / Math.ceil(partitions / n));
}

function keep(list: readonly { atMs: number; replicas: number }[], nowMs: number, windowMs: number, replicas: number) {
  return [...list.filter((r) => r.atMs > nowMs - windowMs), { atMs: nowMs, replicas }];
}
