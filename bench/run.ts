/**
 * `make bench`: the data plane's benchmarks, each reported as a figure and as a ratio to
 * a baseline measured in the same run (see bench/README.md). Sends traffic only to the
 * local testbed, is bounded in events and time, and stops by itself.
 */
import { cpus, loadavg, totalmem } from "node:os";
import { killAllChildren, runBenchMain } from "./child.js";
import { benchConfig } from "./config.js";
import { benchContext } from "./context.js";
import { aggregationBenchmarks } from "./aggregation.js";
import { collectorThroughput } from "./collector-throughput.js";
import { latencyAndMemory } from "./latency.js";
import { printTable, writeResults, type Figure } from "./report.js";
import { nodeSinkThroughput } from "./node-sink.js";
import { sinkThroughput } from "./sink-throughput.js";

async function main(): Promise<void> {
  const cfg = benchConfig();
  const deadline = setTimeout(() => {
    console.error(`bench: still running after ${cfg.maxRunMs / 1000} s (BENCH_MAX_SECONDS); stopping`);
    killAllChildren();
    process.exit(2);
  }, cfg.maxRunMs);
  deadline.unref();
  const started = new Date();
  const load0 = loadavg();
  const ctx = await benchContext(cfg);
  const figures: Figure[] = [];
  const detail: Record<string, unknown> = {};
  try {
    console.log(`bench ${ctx.runId}: Kafka ${ctx.kafkaBrokers}, ClickHouse ${ctx.features.version.text} at ${ctx.clickhouseUrl}, database ${ctx.database}`);
    // BENCH_ONLY picks benchmarks; latency needs the collector's capacity, so it brings the collector along.
    const want = (b: string) => cfg.only.length === 0 || cfg.only.includes(b);
    let capacity = 0;
    let deployedSinkPerCpu: number | null = null;
    if (want("collector") || want("latency")) {
      console.log("collector throughput ...");
      const c = await collectorThroughput(ctx);
      figures.push(...c.figures);
      detail.collector = c.detail;
      capacity = c.capacityEventsPerSecond;
      console.log(`  collector: ${Math.round(capacity)} ev/s`);
    }
    if (want("sink")) {
      console.log("sink drain ...");
      const s = await sinkThroughput(ctx);
      figures.push(...s.figures);
      detail.sink = s.detail;
      deployedSinkPerCpu = s.figures.find((f) => f.metric.startsWith("rows per CPU-second, as deployed"))?.value ?? null;
      // The collector and the sink run as separate processes in benchmark 3, as in a
      // cluster: the pipeline's capacity is the slower of the two.
      if (s.deployedRowsPerSecond > 0 && (capacity === 0 || s.deployedRowsPerSecond < capacity)) {
        console.log(`  pipeline capacity: the sink as deployed, ${Math.round(s.deployedRowsPerSecond)} rows/s (collector ${Math.round(capacity)} ev/s)`);
        capacity = s.deployedRowsPerSecond;
      }
    }
    if (want("latency")) {
      console.log("latency and memory at fixed rates ...");
      const l = await latencyAndMemory(ctx, capacity);
      figures.push(...l.figures);
      detail.latency = l.detail;
    }
    if (want("aggregation")) {
      console.log("aggregation throughput and state memory ...");
      const a = await aggregationBenchmarks(ctx);
      figures.push(...a.figures);
      detail.aggregation = a.detail;
    }
    if (want("node")) {
      console.log("sink pods on the real node ...");
      const nd = await nodeSinkThroughput(ctx, deployedSinkPerCpu);
      figures.push(...nd.figures);
      detail.node = nd.detail;
    }
  } finally {
    killAllChildren();
    await ctx.close();
  }
  printTable(figures);
  console.log("\nThe machine is shared: absolute figures move with its load; the ratios (same-run baselines) are the comparable part.");
  writeResults(cfg.resultsFile, {
    startedAt: started.toISOString(),
    durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryBytes: totalmem(), loadAverageBefore: load0, loadAverageAfter: loadavg(), node: process.version },
    clickhouse: ctx.features.version.text,
    config: cfg,
    figures,
    detail,
  });
  console.log(`results written to ${cfg.resultsFile}`);
}

runBenchMain(main);
