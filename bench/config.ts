/**
 * Benchmark sizes, read once from the environment with defaults and explicit units, so
 * nothing downstream handles "unset". Defaults keep `make bench` at about 10 minutes on
 * the 2-core machine.
 */
export interface BenchConfig {
  /** Events sent through the collector (and by the bare producer) in benchmark 1. */
  collectorEvents: number;
  /** Events per HTTP request (and per producer.send in the baseline). */
  perRequest: number;
  /** Concurrent requests (and concurrent sends in the baseline). */
  concurrency: number;
  /** Approximate size of one event as JSON, bytes. */
  eventBytes: number;
  /** Records pre-filled into the topic each sink drains in benchmark 2. */
  sinkRecords: number;
  /** Records pre-filled for benchmark 8 (sink pods on the real node): more than 2's, so the mid-drain window spans many inserts. */
  nodeSinkRecords: number;
  /** How long a sink may take to drain the topic before the figure is reported as incomplete. */
  drainTimeoutMs: number;
  /** Duration of each fixed-rate latency run in benchmark 3. */
  latencyRunMs: number;
  /** Fractions of the pipeline's capacity (co-located, bench/latency.ts) the latency runs send at. */
  latencyLoads: number[];
  /**
   * BENCH_LATENCY_RATES: fixed rates in events/s instead of fractions of a capacity measured
   * first, for comparing two versions at the same rates (the capacity reading moves between
   * runs more than the latency does between versions). Empty: fractions.
   */
  latencyRates: number[];
  /** After a latency run, how long to wait for the last events to become queryable. */
  latencySettleMs: number;
  /** ClickHouse poll interval for arrival times: the resolution of the latency figures. */
  pollIntervalMs: number;
  /** Hard stop for the whole run. */
  maxRunMs: number;
  /** Records pre-filled for the aggregation throughput benchmarks (5, 6). */
  aggEvents: number;
  /** Distinct group keys (users) in those records, and in the state-memory benchmark (7). */
  aggGroups: number;
  /** Minutes of event time the records are spread over. */
  aggEventMinutes: number;
  /** Open (window, group) keys for the state-memory benchmark; fewer (extrapolated, said so) when they would not fit. */
  aggStateKeys: number;
  /** Longest the state-memory benchmark may spend opening keys. */
  aggStateTimeLimitMs: number;
  /** Benchmarks to run (BENCH_ONLY=collector,sink,latency,aggregation,node); empty: all. */
  only: string[];
  /** Keep the bench database and topics afterwards (for inspection). */
  keep: boolean;
  resultsFile: string;
}

function num(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}=${raw}: expected a number >= ${min}`);
  return n;
}

export function benchConfig(): BenchConfig {
  const loads = (process.env.BENCH_LATENCY_LOADS ?? "0.5,0.8").split(",").map(Number);
  if (loads.some((l) => !(l > 0 && l <= 1.5))) throw new Error(`BENCH_LATENCY_LOADS=${process.env.BENCH_LATENCY_LOADS}: expected fractions like 0.5,0.8`);
  const rates = (process.env.BENCH_LATENCY_RATES ?? "").split(",").filter((r) => r.trim() !== "").map(Number);
  if (rates.some((r) => !(Number.isInteger(r) && r >= 100))) throw new Error(`BENCH_LATENCY_RATES=${process.env.BENCH_LATENCY_RATES}: expected events per second like 7000,10000`);
  return {
    latencyRates: rates,
    collectorEvents: num("BENCH_COLLECTOR_EVENTS", 100_000, 1_000),
    perRequest: num("BENCH_PER_REQUEST", 100, 1),
    concurrency: num("BENCH_CONCURRENCY", 16, 1),
    eventBytes: num("BENCH_EVENT_BYTES", 500, 200),
    sinkRecords: num("BENCH_SINK_RECORDS", 200_000, 1_000),
    nodeSinkRecords: num("BENCH_NODE_SINK_RECORDS", 600_000, 1_000),
    drainTimeoutMs: num("BENCH_DRAIN_TIMEOUT_S", 90, 5) * 1000,
    latencyRunMs: num("BENCH_LATENCY_SECONDS", 20, 2) * 1000,
    latencyLoads: loads,
    latencySettleMs: num("BENCH_LATENCY_SETTLE_S", 15, 1) * 1000,
    pollIntervalMs: num("BENCH_POLL_MS", 100, 10),
    maxRunMs: num("BENCH_MAX_SECONDS", 1200, 30) * 1000,
    aggEvents: num("BENCH_AGG_EVENTS", 400_000, 1_000),
    aggGroups: num("BENCH_AGG_GROUPS", 10_000, 1),
    aggEventMinutes: num("BENCH_AGG_EVENT_MINUTES", 4, 1),
    aggStateKeys: num("BENCH_AGG_STATE_KEYS", 1_000_000, 1_000),
    aggStateTimeLimitMs: num("BENCH_AGG_STATE_SECONDS", 90, 5) * 1000,
    only: onlyList(),
    keep: process.env.BENCH_KEEP === "1",
    resultsFile: process.env.BENCH_RESULTS ?? "bench/results/latest.json",
  };
}

export const BENCHMARKS = ["collector", "sink", "latency", "aggregation", "node"] as const;

function onlyList(): string[] {
  const only = (process.env.BENCH_ONLY ?? "").split(",").map((x) => x.trim()).filter(Boolean);
  for (const o of only) if (!(BENCHMARKS as readonly string[]).includes(o)) throw new Error(`BENCH_ONLY=${process.env.BENCH_ONLY}: expected a list of ${BENCHMARKS.join(", ")}`);
  return only;
}
