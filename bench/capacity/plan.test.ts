import { describe, expect, it } from "vitest";
import type { Figure } from "../report.js";
import { capacityPlan, cores, lookup, partitionsFor, scaleOutEfficiency } from "./plan.js";

const fig = (f: Partial<Figure> & Pick<Figure, "bench" | "metric" | "value">): Figure => ({ unit: "ev/s/core", baseline: "b", baselineValue: null, ratio: null, ...f });
const collector = fig({ bench: "1 collector (500 B events, 100/request)", metric: "events/s per core", value: 40_000, baseline: "bare librdkafka native produce()", baselineValue: 80_000 });
const sink = fig({ bench: "2 sink (drain 200000 records)", metric: "rows per CPU-second, as deployed (pod memory environment)", unit: "rows/s/core", value: 30_000 });
const rss = fig({ bench: "4 worker RSS @80%", metric: "peak under load", unit: "MiB", value: 500 });

describe("capacity plan arithmetic", () => {
  it("cores = rate / (per core x efficiency); null when the figure is missing", () => {
    expect(cores(1_000_000, 40_000, 1)).toBe(25);
    expect(cores(1_000_000, 40_000, 0.8)).toBeCloseTo(31.25);
    expect(cores(1_000_000, null, 1)).toBeNull();
    expect(cores(1_000_000, 0, 1)).toBeNull();
  });

  it("partitions: next multiple of 12 at or above pods x 1.25", () => {
    expect(partitionsFor(1)).toBe(12);
    expect(partitionsFor(9)).toBe(12); // 11.25 -> 12
    expect(partitionsFor(10)).toBe(24); // 12.5 -> 13 -> 24
    expect(partitionsFor(26)).toBe(36);
    expect(partitionsFor(143)).toBe(180); // 178.75 -> 179 -> 180
    for (let pods = 1; pods < 500; pods++) {
      const p = partitionsFor(pods);
      expect(p % 12).toBe(0);
      expect(p).toBeGreaterThanOrEqual(pods * 1.25);
      expect(p - 12).toBeLessThan(pods * 1.25);
    }
  });

  it("pods round cores up; an exact fit takes no extra pod", () => {
    const plan = capacityPlan({ figures: [collector, sink, rss] });
    const c = plan.stages.find((s) => s.def.id === "collector")!.atRate.get(1_000_000)!;
    expect(c).toMatchObject({ cores: 25, pods: 25, partitions: null, rssMiB: 12_500, besideCores: [12.5, null, null, null] });
    const s = plan.stages.find((s) => s.def.id === "sink")!.atRate.get(5_000_000)!;
    expect(s.cores).toBeCloseTo(166.67, 2);
    expect(s).toMatchObject({ pods: 167, partitions: 216 }); // 208.75 -> 209 -> 216
    expect(plan.topicPartitions.get(5_000_000)).toBe(216);
  });

  it("missing figures plan as not measured instead of throwing", () => {
    const plan = capacityPlan({});
    for (const s of plan.stages) for (const a of s.atRate.values()) expect(a).toMatchObject({ cores: null, pods: null, partitions: null, rssMiB: null });
    expect(plan.topicPartitions.get(1_000_000)).toBeNull();
    expect(plan.scaleOut).toMatchObject({ measured: false, efficiency: 1 });
    // A figure present with a null value (the Kafka engine that consumed nothing) keeps its note.
    const engine = lookup([fig({ bench: "2 sink (x)", metric: "ClickHouse Kafka engine + MV rows/s", value: null, note: "not measured: no row" })], { benchPrefix: "2 sink", metric: "ClickHouse Kafka engine + MV rows/s" });
    expect(engine).toMatchObject({ value: null, note: "not measured: no row" });
  });

  it("uses a measured scale-out efficiency when the run has one", () => {
    const eff = fig({ bench: "8 sink scale-out 1->2 workers", metric: "scale-out efficiency", unit: "ratio", value: 0.8 });
    expect(scaleOutEfficiency([eff])).toMatchObject({ measured: true, efficiency: 0.8 });
    const plan = capacityPlan({ figures: [collector, eff] });
    expect(plan.stages[0]!.atRate.get(1_000_000)).toMatchObject({ cores: 31.25, pods: 32 });
  });

  it("prefers the pods' scale-out figure to the processes', and plans one above 1 as 1", () => {
    const processes = fig({ bench: "2 sink (drain)", metric: "scale-out efficiency 1->2 sink workers", unit: "fraction", value: 0.7 });
    const podsFig = fig({ bench: "8 sink pods on the real node", metric: "scale-out efficiency 1->2 sink pods", unit: "fraction", value: 0.9 });
    expect(scaleOutEfficiency([processes, podsFig])).toMatchObject({ efficiency: 0.9, capped: false, source: "8 sink pods on the real node / scale-out efficiency 1->2 sink pods" });
    const superlinear = { ...podsFig, value: 1.19 };
    expect(scaleOutEfficiency([processes, superlinear])).toMatchObject({ value: 1.19, efficiency: 1, capped: true });
    // Not measured on the node (no node): the processes' figure serves.
    expect(scaleOutEfficiency([processes, { ...podsFig, value: null }])).toMatchObject({ efficiency: 0.7 });
  });
});
