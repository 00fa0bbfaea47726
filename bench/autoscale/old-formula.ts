/**
 * The lag formula Sluice shipped before issue 12, kept verbatim (less its doc comment) only
 * so `make bench-autoscale` can run it side by side with the current one
 * (operator/autoscale/replicas.ts). Not used by the operator.
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
