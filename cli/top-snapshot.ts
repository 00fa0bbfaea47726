/**
 * What `sluice top` shows, from two samples a refresh apart: per stream the rate it
 * accepts, and per Sink and Aggregation under it the rate it writes or consumes, its lag,
 * the sink's freshness p99, dead letters per second, replicas and an aggregation's
 * watermark lag. Pure: the samples come from the metrics endpoints and from Kafka (the
 * code behind `sluice lag`), the rows go to top-render.ts or to JSON.
 *
 * Rates are counter deltas over the time between the samples, as Prometheus' rate():
 * a counter that went down restarted, and counts from zero. Where the metrics could not be
 * read the rates come from Kafka's offsets instead (end offsets for what came in, the
 * group's position for what was consumed), so a cluster without a reachable /metrics
 * still shows movement.
 */
import type { GroupLag } from "./lag-observe.js";
import type { PromSample } from "./prom-text.js";

export interface TopPipeline {
  kind: "Sink" | "Aggregation";
  name: string;
  namespace: string;
  stream: string;
  topic: string;
}

export interface TopStream {
  name: string;
  topic: string;
}

/** Replicas as a cluster reports them (status.replicas, status.autoscaling.desiredReplicas). */
export interface Replicas {
  current: number | null;
  desired: number | null;
}

export interface TopSample {
  atMs: number;
  /** Every sample of every metrics URL that answered; undefined when none did. */
  metrics?: PromSample[];
  /** What could not be read: a metrics URL that did not answer, the replicas. */
  notes: string[];
  /** From observeTarget, one per pipeline (matched by kind and name). */
  lag: GroupLag[];
  /** By `${kind}/${name}`; absent without a cluster (manifests only). */
  replicas?: Map<string, Replicas>;
}

export interface TopRow {
  kind: TopPipeline["kind"];
  name: string;
  /** Sink: rows/s written to ClickHouse; Aggregation: events/s consumed. null on the first sample. */
  ratePerSecond: number | null;
  /** Where ratePerSecond came from. */
  rateSource: "metrics" | "kafka" | null;
  lagMessages: number | null;
  lagSeconds: number | null;
  /** p99 of collector-accept-to-written over the last interval (sinks); null when nothing was written in it. */
  freshnessP99Seconds: number | null;
  /** The p99 fell in the histogram's +Inf bucket: the value is its largest finite bound, a lower limit. */
  freshnessAboveBuckets?: boolean;
  deadLettersPerSecond: number | null;
  replicas: Replicas | null;
  /** Aggregations: now minus the watermark, the largest any worker reports. */
  watermarkLagSeconds: number | null;
  error?: string;
}

export interface TopStreamRow {
  name: string;
  topic: string;
  /** Events/s accepted into the stream. */
  ratePerSecond: number | null;
  rateSource: "metrics" | "kafka" | null;
  pipelines: TopRow[];
}

export interface TopSnapshot {
  at: string;
  /** Seconds between the two samples the rates cover (null on the first). */
  windowSeconds: number | null;
  streams: TopStreamRow[];
  /** Metrics URLs that did not answer, and the like. */
  notes: string[];
}

export function topSnapshot(streams: TopStream[], pipelines: TopPipeline[], prev: TopSample | undefined, cur: TopSample): TopSnapshot {
  const dt = prev ? (cur.atMs - prev.atMs) / 1000 : null;
  const window = dt !== null && dt > 0 ? { prev: prev!, dt } : undefined;
  const metricsBoth = window && window.prev.metrics && cur.metrics ? { prev: window.prev.metrics, cur: cur.metrics, dt: window.dt } : undefined;
  return {
    at: new Date(cur.atMs).toISOString(),
    windowSeconds: window?.dt ?? null,
    notes: cur.notes,
    streams: streams.map((s) => {
      const mine = pipelines.filter((p) => p.stream === s.name);
      const accepted = (m: PromSample[]) => sum(m, "sluice_collector_events_total", { stream: s.name, outcome: "accepted" });
      const fromMetrics = metricsBoth ? counterRate(accepted(metricsBoth.prev), accepted(metricsBoth.cur), metricsBoth.dt) : null;
      const ends = (sample: TopSample) => firstDefined(mine.map((p) => offsetSum(findLag(sample, p), "end")));
      const fromKafka = window ? counterRate(ends(window.prev), ends(cur), window.dt) : null;
      return {
        name: s.name,
        topic: s.topic,
        ratePerSecond: fromMetrics ?? fromKafka,
        rateSource: fromMetrics !== null ? "metrics" : fromKafka !== null ? "kafka" : null,
        pipelines: mine.map((p) => pipelineRow(p, cur, window, metricsBoth)),
      };
    }),
  };
}

function pipelineRow(p: TopPipeline, cur: TopSample, window: { prev: TopSample; dt: number } | undefined, m: { prev: PromSample[]; cur: PromSample[]; dt: number } | undefined): TopRow {
  const label: Record<string, string> = { [p.kind === "Sink" ? "sink" : "aggregation"]: `${p.namespace}/${p.name}` };
  const lag = findLag(cur, p);
  const rate = (name: string) => (m ? counterRate(sum(m.prev, name, label), sum(m.cur, name, label), m.dt) : null);
  // A sink's rows written; an aggregation's events read (its output is per window, not per
  // event). Only where the scrape has the series: before a worker's first write, or from a
  // worker too old to count reads, Kafka's positions say more than a 0.
  const writtenName = p.kind === "Sink" ? "sluice_sink_rows_written_total" : "sluice_aggregation_events_read_total";
  const written = m && m.cur.some((s) => matches(s, writtenName, label)) ? rate(writtenName) : null;
  const consumed = window ? counterRate(offsetSum(findLag(window.prev, p), "position"), offsetSum(lag, "position"), window.dt) : null;
  const freshness = p.kind === "Sink" && m ? histogramQuantile(0.99, bucketDeltas(m.prev, m.cur, "sluice_sink_ingest_to_written_seconds_bucket", label)) : null;
  const watermark = p.kind === "Aggregation" && cur.metrics ? max(cur.metrics, "sluice_aggregation_watermark_lag_seconds", label) : undefined;
  const row: TopRow = {
    kind: p.kind,
    name: p.name,
    ratePerSecond: written ?? consumed,
    rateSource: written !== null ? "metrics" : consumed !== null ? "kafka" : null,
    lagMessages: lag && !lag.error ? lag.lag.messages : null,
    lagSeconds: lag && !lag.error ? lag.lag.seconds : null,
    freshnessP99Seconds: freshness?.seconds ?? null,
    deadLettersPerSecond: rate(p.kind === "Sink" ? "sluice_sink_dead_letters_total" : "sluice_aggregation_dead_letters_total"),
    replicas: cur.replicas?.get(`${p.kind}/${p.name}`) ?? null,
    watermarkLagSeconds: watermark ?? null,
  };
  if (freshness?.above) row.freshnessAboveBuckets = true;
  const error = lag ? lag.error : "no lag observation";
  if (error) row.error = error;
  return row;
}

function findLag(sample: TopSample, p: TopPipeline): GroupLag | undefined {
  return sample.lag.find((g) => g.kind === p.kind && g.name === p.name);
}

/** Sum of the partitions' end offsets or positions; undefined when not measured. */
function offsetSum(g: GroupLag | undefined, field: "end" | "position"): number | undefined {
  if (!g || g.error || g.partitions.length === 0) return undefined;
  return g.partitions.reduce((n, x) => n + Number(x[field]), 0);
}

function firstDefined(values: (number | undefined)[]): number | undefined {
  return values.find((v) => v !== undefined);
}

/** Per second; a drop is a restart (the counter counts from zero again). */
export function counterRate(prev: number | undefined, cur: number | undefined, dt: number): number | null {
  if (prev === undefined || cur === undefined || dt <= 0) return null;
  return (cur >= prev ? cur - prev : cur) / dt;
}

function matches(s: PromSample, name: string, labels: Record<string, string>): boolean {
  return s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);
}

/**
 * Summed over every series (tenants, pods) with these labels. A series not there yet
 * counts 0: prom-client shows a labelled counter only after its first increment.
 */
export function sum(samples: PromSample[], name: string, labels: Record<string, string>): number {
  return samples.reduce((n, s) => (matches(s, name, labels) ? n + s.value : n), 0);
}

function max(samples: PromSample[], name: string, labels: Record<string, string>): number | undefined {
  const values = samples.filter((s) => matches(s, name, labels)).map((s) => s.value);
  return values.length > 0 ? Math.max(...values) : undefined;
}

/** Cumulative bucket counts added in the window, by upper bound (summed over pods). */
export function bucketDeltas(prev: PromSample[], cur: PromSample[], name: string, labels: Record<string, string>): Map<number, number> {
  const byLe = (samples: PromSample[]) => {
    const out = new Map<number, number>();
    for (const s of samples) if (matches(s, name, labels) && s.labels.le !== undefined) out.set(parseLe(s.labels.le), (out.get(parseLe(s.labels.le)) ?? 0) + s.value);
    return out;
  };
  const before = byLe(prev);
  const after = byLe(cur);
  const restarted = [...after].some(([le, n]) => n < (before.get(le) ?? 0));
  return new Map([...after].map(([le, n]) => [le, restarted ? n : n - (before.get(le) ?? 0)]));
}

function parseLe(le: string): number {
  return le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
}

/**
 * Prometheus' histogram_quantile: linear within the bucket the rank falls in. undefined
 * when the window saw no observation; in the +Inf bucket it answers the largest finite
 * bound, flagged as a lower limit.
 */
export function histogramQuantile(q: number, cumulative: Map<number, number>): { seconds: number; above: boolean } | undefined {
  const buckets = [...cumulative].sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return { seconds: lowerBound, above: true };
      const inBucket = count - lowerCount;
      return { seconds: inBucket > 0 ? lowerBound + ((le - lowerBound) * (rank - lowerCount)) / inBucket : le, above: false };
    }
    lowerBound = le;
    lowerCount = count;
  }
  return { seconds: lowerBound, above: true };
}
