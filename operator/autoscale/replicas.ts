/**
 * Replicas from consumer lag, as a pure function of observations and recent history.
 *
 *   perReplica = consumedPerSecond / current                (what one worker drains)
 *   needed     = ceil((producedPerSecond + lag / targetLagSeconds) / perReplica)
 *   desired    = clamp(needed, minReplicas, min(maxReplicas, partitions))
 *
 * i.e. enough workers to keep up with what arrives *and* drain the current lag within the
 * target. The consumption rate measures capacity only while workers are saturated; once
 * they have caught up (under a second of lag) it merely equals the arrival rate, so the
 * recommendation is then one replica fewer, a gentle step down. Scaling up is immediate; scaling down takes the highest recommendation of the
 * last `scaleDownWindowMs`, so a lull does not shed workers that the next burst needs.
 * Without a usable rate (no consumption measured yet, first sample) the current count is
 * kept: missing metrics never scale a pipeline down, let alone to zero.
 */
export interface LagSample {
  atMs: number;
  /** Sum over partitions of the newest offset. */
  produced: number;
  /** Sum over partitions of the committed offset of the worker's group. */
  consumed: number;
}

export interface AutoscaleInput {
  previous?: LagSample;
  sample: LagSample;
  current: number;
  minReplicas: number;
  maxReplicas: number;
  partitions: number;
  targetLagSeconds: number;
  /** Earlier recommendations, newest last, for the scale-down window. */
  history: readonly { atMs: number; replicas: number }[];
  scaleDownWindowMs?: number;
}

export interface AutoscaleDecision {
  replicas: number;
  lagMessages: number;
  /** Lag divided by the consumption rate; undefined while the rate is unknown. */
  lagSeconds?: number;
  /** The raw recommendation, before the scale-down window; recorded in the history. */
  recommendation: number;
}

export const DEFAULT_SCALE_DOWN_WINDOW_MS = 300_000;

export function autoscale(i: AutoscaleInput): AutoscaleDecision {
  const lagMessages = Math.max(0, i.sample.produced - i.sample.consumed);
  const ceiling = Math.max(i.minReplicas, Math.min(i.maxReplicas, i.partitions));
  const clamp = (n: number) => Math.min(ceiling, Math.max(i.minReplicas, n));
  const current = Math.max(1, i.current);
  const rates = ratesOf(i.previous, i.sample);
  if (!rates || rates.consumedPerSecond <= 0) {
    // Unknown throughput: hold (within bounds), unless there is nothing to do at all.
    const hold = clamp(lagMessages === 0 && rates ? i.minReplicas : current);
    return { replicas: hold, lagMessages, recommendation: hold };
  }
  const lagSeconds = lagMessages / rates.consumedPerSecond;
  const perReplica = rates.consumedPerSecond / current;
  const caughtUp = lagSeconds < 1;
  const needed = caughtUp ? current - 1 : Math.ceil((rates.producedPerSecond + lagMessages / i.targetLagSeconds) / perReplica);
  const recommendation = clamp(needed);
  const since = i.sample.atMs - (i.scaleDownWindowMs ?? DEFAULT_SCALE_DOWN_WINDOW_MS);
  const recent = i.history.filter((h) => h.atMs >= since).map((h) => h.replicas);
  const replicas = recommendation >= current ? recommendation : clamp(Math.max(recommendation, ...recent));
  return { replicas, lagMessages, lagSeconds, recommendation };
}

function ratesOf(previous: LagSample | undefined, sample: LagSample) {
  if (!previous || sample.atMs <= previous.atMs) return undefined;
  const seconds = (sample.atMs - previous.atMs) / 1000;
  return {
    producedPerSecond: Math.max(0, sample.produced - previous.produced) / seconds,
    consumedPerSecond: Math.max(0, sample.consumed - previous.consumed) / seconds,
  };
}
