/**
 * The capacity plan (issue 14): cores, pods and partitions per stage for a target rate,
 * computed only from the figures of one `make bench` run (bench/results/latest.json).
 * Pure: the generator and the tests feed it parsed JSON. A figure the run lacks leaves
 * its numbers null ("not measured"), never a guess, so a partial run (BENCH_ONLY) still plans.
 */
import type { Figure } from "../report.js";

/** What the plan reads of latest.json; everything optional because a run may be partial or old. */
export interface BenchResults {
  startedAt?: string;
  machine?: { cpus?: number; cpuModel?: string; memoryBytes?: number; loadAverageBefore?: number[]; node?: string };
  clickhouse?: string;
  config?: { eventBytes?: number };
  figures?: Figure[];
}

export const TARGET_RATES = [1_000_000, 5_000_000] as const;

/**
 * One core per pod: a worker's JavaScript runs on one thread, so a second core mostly
 * idles (librdkafka's and the HTTP parser's threads are counted in the measured CPU-seconds
 * already). Scaling is by pods, which is also what the autoscaler changes.
 */
export const CORES_PER_POD = 1;
/** Partitions grow to the next multiple of this: 12 divides evenly among 1, 2, 3, 4, 6 and 12 consumers (the example topic has 12). */
export const PARTITION_MULTIPLE = 12;
/** Room for 25% more consumers than planned without adding partitions (partitions only grow, and growing moves keys). */
export const PARTITION_HEADROOM = 1.25;

/** Which figure of latest.json a number comes from: its `bench` prefix (the rest names run parameters), `metric`, and for a baseline its `baseline`. */
export interface FigureRef {
  benchPrefix: string;
  metric: string;
  baseline?: string;
}

/** A number with the exact figure it came from, so the doc can cite it. */
export interface Traced {
  value: number | null;
  /** `bench / metric` (or `bench / baseline`) as written in latest.json; the selector when the figure is absent. */
  source: string;
  /** The figure's unit, per core shown as per second ("ev/s/core" -> "ev/s"). */
  unit?: string;
  note?: string;
}

export type StageId = "collector" | "sink" | "tumbling" | "sliding";

export interface StageDef {
  id: StageId;
  name: string;
  /** A consumer-group member: its pods can use at most one partition each. */
  consumes: boolean;
  perCore: FigureRef;
  /** Same-run baselines: the bare Kafka / ClickHouse clients doing the stage's I/O alone. */
  beside: (FigureRef & { label: string; perCore: boolean })[];
  /** Peak RSS under load of a pod of this stage, if measured. */
  rss?: FigureRef;
}

export const RSS_80: FigureRef = { benchPrefix: "4 worker RSS @80%", metric: "peak under load" };

/** The floor of every consuming stage: reading the records alone (read + JSON.parse), with the port's consumer and with the fastest client measured. */
const READ_FLOOR: StageDef["beside"] = [
  { label: "bare read loop, the port's consumer (librdkafka, read + JSON.parse only)", benchPrefix: "2 consumers", metric: "records per CPU-second, lz4 topic", perCore: true },
  { label: "bare read loop, @platformatic/kafka (not shipped)", benchPrefix: "2 consumers", metric: "records per CPU-second, lz4 topic", baseline: "@platformatic/kafka", perCore: true },
];

export const STAGES: StageDef[] = [
  {
    id: "collector",
    name: "collector (HTTP -> Kafka)",
    consumes: false,
    perCore: { benchPrefix: "1 collector", metric: "events/s per core" },
    beside: [
      { label: "bare librdkafka native produce() (the collector's client)", benchPrefix: "1 collector", metric: "events/s per core", baseline: "bare librdkafka native produce()", perCore: true },
      { label: "bare librdkafka producer, KafkaJS-shaped API", benchPrefix: "1 collector", metric: "events/s per core", baseline: "bare librdkafka producer", perCore: true },
      { label: "bare @platformatic/kafka producer", benchPrefix: "1 collector", metric: "events/s per core", baseline: "bare @platformatic/kafka producer", perCore: true },
      { label: "bare kafkajs producer", benchPrefix: "1 collector", metric: "events/s per core", baseline: "bare kafkajs producer", perCore: true },
    ],
    rss: RSS_80,
  },
  {
    id: "sink",
    name: "sink (Kafka -> ClickHouse)",
    consumes: true,
    // The worker in a deployed pod's memory environment: in make bench it does about half the
    // rows per CPU-second of the same process unconstrained (beside): V8's garbage collection
    // under the smaller heap (bench/README.md, "Memory environment").
    perCore: { benchPrefix: "2 sink", metric: "rows per CPU-second, as deployed (pod memory environment)" },
    beside: [
      { label: "the same sink worker, unconstrained memory", benchPrefix: "2 sink", metric: "rows per CPU-second", perCore: true },
      { label: "the sink in a pod on the real node (cgroup CPU, the pod's start included)", benchPrefix: "8 sink pods", metric: "rows per CPU-second, 1 pod, whole drain", perCore: true },
      { label: "bare consume+insert loop (librdkafka + @clickhouse/client)", benchPrefix: "2 sink", metric: "rows per CPU-second", baseline: "bare consume+insert loop", perCore: true },
      { label: "ClickHouse's own Kafka engine + MV (chdb, in-process: all of ClickHouse's CPU)", benchPrefix: "2 sink", metric: "ClickHouse Kafka engine rows per CPU-second", perCore: true },
      ...READ_FLOOR,
    ],
    rss: RSS_80,
  },
  {
    id: "tumbling",
    name: "aggregation, tumbling 1m",
    consumes: true,
    perCore: { benchPrefix: "5 aggregation tumbling", metric: "events per CPU-second, as deployed (pod memory environment)" },
    rss: { benchPrefix: "5 aggregation tumbling", metric: "RSS after the drain, as deployed" },
    beside: [
      { label: "the same aggregation worker, unconstrained memory", benchPrefix: "5 aggregation tumbling", metric: "events per CPU-second", perCore: true },
      { label: "bare eachBatch + JSON.parse (librdkafka)", benchPrefix: "5 aggregation tumbling", metric: "events per CPU-second", baseline: "bare eachBatch + JSON.parse", perCore: true }, ...READ_FLOOR],
  },
  {
    id: "sliding",
    name: "aggregation, sliding 1m/10s",
    consumes: true,
    perCore: { benchPrefix: "6 aggregation sliding", metric: "events per CPU-second, as deployed (pod memory environment)" },
    rss: { benchPrefix: "6 aggregation sliding", metric: "RSS after the drain, as deployed" },
    beside: [
      { label: "the same aggregation worker, unconstrained memory", benchPrefix: "6 aggregation sliding", metric: "events per CPU-second", perCore: true },
      { label: "bare eachBatch + JSON.parse (librdkafka)", benchPrefix: "6 aggregation sliding", metric: "events per CPU-second", baseline: "bare eachBatch + JSON.parse", perCore: true }, ...READ_FLOOR],
  },
];

/**
 * Scale-out efficiency: throughput per CPU-second of N workers / one worker's. Two
 * benchmarks measure it: pods on the testbed's real node (8, preferred: what Kubernetes
 * runs) and worker processes (2). A figure above 1 (two workers doing more per CPU-second
 * than one, which this shared machine shows at times) is planned as 1: the plan never
 * counts on scaling out to make work cheaper.
 */
export const SCALE_OUT_METRIC = /scale-?out efficiency/i;

export const usable = (n: number | null | undefined): n is number => typeof n === "number" && Number.isFinite(n) && n > 0;

/** The figure's value (or its baseline's value when ref.baseline is set); null when the run lacks it. */
export function lookup(figures: Figure[], ref: FigureRef): Traced {
  const f = figures.find((x) => x.bench.startsWith(ref.benchPrefix) && x.metric === ref.metric && (ref.baseline === undefined || x.baseline === ref.baseline));
  if (!f) return { value: null, source: `${ref.benchPrefix}… / ${ref.metric}${ref.baseline ? ` / ${ref.baseline}` : ""}` };
  const value = ref.baseline === undefined ? f.value : f.baselineValue;
  const source = ref.baseline === undefined ? `${f.bench} / ${f.metric}` : `${f.bench} / ${f.metric} / baseline ${f.baseline}`;
  return { value: usable(value) ? value : null, source, unit: f.unit.replace(/\/core$/, ""), ...(f.note && !usable(value) ? { note: f.note } : {}) };
}

export function scaleOutEfficiency(figures: Figure[]): Traced & { measured: boolean; efficiency: number; capped: boolean } {
  const measured = figures.filter((x) => SCALE_OUT_METRIC.test(x.metric) && usable(x.value));
  const f = measured.find((x) => /\bpods?\b/.test(x.metric)) ?? measured[0];
  if (f) return { value: f.value, efficiency: Math.min(1, f.value!), capped: f.value! > 1, measured: true, source: `${f.bench} / ${f.metric}` };
  return { value: null, efficiency: 1, capped: false, measured: false, source: "no figure in this run matches /scale-?out efficiency/" };
}

/** Partitions for `pods` consumers: at least pods x headroom, up to the next multiple of PARTITION_MULTIPLE. */
export function partitionsFor(pods: number): number {
  const wanted = Math.max(1, Math.ceil(pods * PARTITION_HEADROOM));
  return Math.ceil(wanted / PARTITION_MULTIPLE) * PARTITION_MULTIPLE;
}

export interface StageAtRate {
  cores: number | null;
  pods: number | null;
  /** null for a stage that does not consume (partitions do not bound it). */
  partitions: number | null;
  rssMiB: number | null;
  /** Cores each same-run baseline would need for the same rate (null when not measured or not per core). */
  besideCores: (number | null)[];
}

export interface StagePlan {
  def: StageDef;
  perCore: Traced;
  beside: Traced[];
  rssPerPodMiB: Traced | null;
  atRate: Map<number, StageAtRate>;
}

export interface CapacityPlan {
  scaleOut: ReturnType<typeof scaleOutEfficiency>;
  stages: StagePlan[];
  /** The topic's partitions: the largest any consuming stage needs (they all read the same topic). */
  topicPartitions: Map<number, number | null>;
  stateMemory: Traced;
}

export function cores(rate: number, perCore: number | null, efficiency: number): number | null {
  return usable(perCore) ? rate / (perCore * efficiency) : null;
}

export function capacityPlan(results: BenchResults, rates: readonly number[] = TARGET_RATES): CapacityPlan {
  const figures = results.figures ?? [];
  const scaleOut = scaleOutEfficiency(figures);
  const stages = STAGES.map((def): StagePlan => {
    const perCore = lookup(figures, def.perCore);
    const beside = def.beside.map((b) => lookup(figures, b));
    const rssPerPodMiB = def.rss ? lookup(figures, def.rss) : null;
    const atRate = new Map<number, StageAtRate>();
    for (const rate of rates) {
      const c = cores(rate, perCore.value, scaleOut.efficiency);
      const pods = c === null ? null : Math.ceil(c / CORES_PER_POD);
      atRate.set(rate, {
        cores: c,
        pods,
        partitions: def.consumes && pods !== null ? partitionsFor(pods) : null,
        rssMiB: pods !== null && usable(rssPerPodMiB?.value) ? rssPerPodMiB.value * pods : null,
        // The baselines are one process too, so the same efficiency applies to them.
        besideCores: def.beside.map((b, i) => (b.perCore ? cores(rate, beside[i]!.value, scaleOut.efficiency) : null)),
      });
    }
    return { def, perCore, beside, rssPerPodMiB, atRate };
  });
  const topicPartitions = new Map<number, number | null>();
  for (const rate of rates) {
    const ps = stages.filter((s) => s.def.consumes).map((s) => s.atRate.get(rate)!.partitions).filter((p): p is number => p !== null);
    topicPartitions.set(rate, ps.length > 0 ? Math.max(...ps) : null);
  }
  const stateMemory = lookup(figures, { benchPrefix: "7 aggregation state memory", metric: "RSS per 1M open keys" });
  return { scaleOut, stages, topicPartitions, stateMemory };
}
