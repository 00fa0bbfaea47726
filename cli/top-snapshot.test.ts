import { describe, expect, it } from "vitest";
import type { GroupLag } from "./lag-observe.js";
import type { PromSample } from "./prom-text.js";
import { bucketDeltas, counterRate, histogramQuantile, topSnapshot, type TopPipeline, type TopSample } from "./top-snapshot.js";

const streams = [{ name: "views", topic: "shop.views" }];
const pipelines: TopPipeline[] = [
  { kind: "Sink", name: "raw", namespace: "shop", stream: "views", topic: "shop.views" },
  { kind: "Aggregation", name: "per-minute", namespace: "shop", stream: "views", topic: "shop.views" },
];

function group(kind: GroupLag["kind"], name: string, parts: [position: number, end: number][], seconds: number | null = 0): GroupLag {
  const partitions = parts.map(([position, end], partition) => ({ partition, committed: String(position), position: String(position), end: String(end), lag: end - position, lagSeconds: seconds, member: null }));
  return { kind, name, groupId: `g-${name}`, topic: "shop.views", state: "Stable", protocol: "range", members: [], lag: { messages: partitions.reduce((n, p) => n + p.lag, 0), seconds }, partitions };
}

function s(name: string, labels: Record<string, string>, value: number): PromSample {
  return { name, labels, value };
}

/** What a `sluice run` /metrics holds after `accepted` events, `written` rows and the given freshness buckets. */
function metrics(accepted: number, written: number, buckets: [string, number][], dead = 0, watermark?: number): PromSample[] {
  return [
    s("sluice_collector_events_total", { stream: "views", tenant: "a", outcome: "accepted" }, accepted * 0.75),
    s("sluice_collector_events_total", { stream: "views", tenant: "b", outcome: "accepted" }, accepted * 0.25),
    s("sluice_collector_events_total", { stream: "views", tenant: "a", outcome: "invalid" }, 1_000),
    s("sluice_sink_rows_written_total", { sink: "shop/raw" }, written),
    s("sluice_sink_rows_written_total", { sink: "other/raw" }, 99_999),
    s("sluice_sink_dead_letters_total", { sink: "shop/raw" }, dead),
    ...buckets.map(([le, n]) => s("sluice_sink_ingest_to_written_seconds_bucket", { sink: "shop/raw", le }, n)),
    ...(watermark === undefined ? [] : [s("sluice_aggregation_watermark_lag_seconds", { aggregation: "shop/per-minute" }, watermark)]),
  ];
}

describe("topSnapshot", () => {
  it("turns two samples into rates, lag, freshness p99 and watermark lag per pipeline, under its stream", () => {
    const prev: TopSample = { atMs: 10_000, metrics: metrics(1_000, 900, [["0.5", 0], ["1", 10], ["+Inf", 10]]), notes: [], lag: [group("Sink", "raw", [[400, 500], [500, 500]]), group("Aggregation", "per-minute", [[300, 500], [500, 500]])] };
    const cur: TopSample = {
      atMs: 12_000,
      metrics: metrics(1_400, 1_300, [["0.5", 50], ["1", 110], ["+Inf", 110]], 4, 12.5),
      notes: [],
      lag: [group("Sink", "raw", [[500, 600], [600, 700]], 0.75), group("Aggregation", "per-minute", [[500, 600], [600, 700]], null)],
    };
    const snap = topSnapshot(streams, pipelines, prev, cur);
    expect(snap.windowSeconds).toBe(2);
    expect(snap.at).toBe(new Date(12_000).toISOString());
    const [views] = snap.streams;
    expect(views).toMatchObject({ name: "views", topic: "shop.views", ratePerSecond: 200, rateSource: "metrics" });
    const [sink, agg] = views!.pipelines;
    // 50 of the window's 100 written within 0.5 s, all within 1 s: rank 99 is 0.5 + 0.5 * 49/50.
    expect(sink).toEqual({ kind: "Sink", name: "raw", ratePerSecond: 200, rateSource: "metrics", lagMessages: 200, lagSeconds: 0.75, freshnessP99Seconds: 0.99, deadLettersPerSecond: 2, replicas: null, watermarkLagSeconds: null });
    // Consumed: positions 800 -> 1100 in 2 s, from Kafka (this scrape has no events-read counter).
    expect(agg).toMatchObject({ kind: "Aggregation", ratePerSecond: 150, rateSource: "kafka", lagMessages: 200, lagSeconds: null, freshnessP99Seconds: null, deadLettersPerSecond: 0, watermarkLagSeconds: 12.5 });
  });

  it("takes an aggregation's rate from its events-read counter where the scrape has it", () => {
    const withReads = (n: number) => [s("sluice_aggregation_events_read_total", { aggregation: "shop/per-minute" }, n), s("sluice_aggregation_events_read_total", { aggregation: "other/per-minute" }, 5_000)];
    const prev: TopSample = { atMs: 10_000, metrics: [...metrics(1_000, 900, []), ...withReads(2_000)], notes: [], lag: [group("Aggregation", "per-minute", [[300, 500]])] };
    const cur: TopSample = { atMs: 12_000, metrics: [...metrics(1_400, 1_300, []), ...withReads(2_500)], notes: [], lag: [group("Aggregation", "per-minute", [[300, 700]])] };
    const agg = topSnapshot(streams, pipelines, prev, cur).streams[0]!.pipelines.find((p) => p.kind === "Aggregation")!;
    // 500 read in 2 s, though its committed position did not move (windows still open).
    expect(agg).toMatchObject({ ratePerSecond: 250, rateSource: "metrics" });
  });

  it("has no rates on the first sample, and takes them from Kafka where no metrics answered", () => {
    const lag = (p: number, e: number) => [group("Sink", "raw", [[p, e]]), group("Aggregation", "per-minute", [[p, e]])];
    const first: TopSample = { atMs: 0, notes: ["metrics http://x/metrics: ECONNREFUSED"], lag: lag(0, 10) };
    const once = topSnapshot(streams, pipelines, undefined, first);
    expect(once.windowSeconds).toBeNull();
    expect(once.notes).toEqual(["metrics http://x/metrics: ECONNREFUSED"]);
    expect(once.streams[0]).toMatchObject({ ratePerSecond: null, rateSource: null });
    expect(once.streams[0]!.pipelines[0]).toMatchObject({ ratePerSecond: null, lagMessages: 10, freshnessP99Seconds: null, deadLettersPerSecond: null });
    const second = topSnapshot(streams, pipelines, first, { ...first, atMs: 4_000, lag: lag(20, 50) });
    expect(second.streams[0]).toMatchObject({ ratePerSecond: 10, rateSource: "kafka" });
    expect(second.streams[0]!.pipelines[0]).toMatchObject({ ratePerSecond: 5, rateSource: "kafka", lagMessages: 30 });
  });

  it("shows a pipeline's lag error and replicas from a cluster", () => {
    const broken = { ...group("Sink", "raw", []), error: "topic shop.views does not exist" };
    const sample: TopSample = { atMs: 0, metrics: [], notes: [], lag: [broken], replicas: new Map([["Sink/raw", { current: 2, desired: 3 }]]) };
    const [sink, agg] = topSnapshot(streams, pipelines, undefined, sample).streams[0]!.pipelines;
    expect(sink).toMatchObject({ lagMessages: null, error: "topic shop.views does not exist", replicas: { current: 2, desired: 3 } });
    expect(agg).toMatchObject({ error: "no lag observation", replicas: null });
  });
});

describe("rates and quantiles", () => {
  it("counts a counter that went down as restarted from zero", () => {
    expect(counterRate(100, 160, 2)).toBe(30);
    expect(counterRate(100, 40, 2)).toBe(20);
    expect(counterRate(undefined, 40, 2)).toBeNull();
  });

  it("interpolates within a bucket, answers nothing for an empty window and a lower limit in +Inf", () => {
    const b = (pairs: [number, number][]) => new Map(pairs);
    expect(histogramQuantile(0.99, b([[0.1, 0], [1, 0], [Number.POSITIVE_INFINITY, 0]]))).toBeUndefined();
    expect(histogramQuantile(0.5, b([[0.1, 0], [1, 100], [Number.POSITIVE_INFINITY, 100]]))).toEqual({ seconds: 0.1 + 0.9 * 0.5, above: false });
    expect(histogramQuantile(0.99, b([[0.1, 10], [1, 90], [Number.POSITIVE_INFINITY, 100]]))).toEqual({ seconds: 1, above: true });
  });

  it("sums buckets over pods and subtracts the previous scrape, unless the counts went down", () => {
    const at = (pod: string, le: string, n: number) => s("h_bucket", { sink: "x", pod, le }, n);
    const prev = [at("a", "1", 5), at("a", "+Inf", 6), at("b", "1", 1), at("b", "+Inf", 1)];
    const cur = [at("a", "1", 7), at("a", "+Inf", 9), at("b", "1", 2), at("b", "+Inf", 2)];
    expect(bucketDeltas(prev, cur, "h_bucket", { sink: "x" })).toEqual(new Map([[1, 3], [Number.POSITIVE_INFINITY, 4]]));
    expect(bucketDeltas(cur, prev, "h_bucket", { sink: "x" })).toEqual(new Map([[1, 6], [Number.POSITIVE_INFINITY, 7]]));
  });
});
