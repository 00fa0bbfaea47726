/**
 * Benchmarks 3 and 4: end-to-end latency from accept (the client's 200, or the bare
 * producer's ack) to queryable in ClickHouse at fixed fractions of the pipeline's capacity
 * (the slower of the collector, benchmark 1, and the sink as deployed, benchmark 2: see
 * run.ts), with the collector and the sink in separate processes as in a cluster; and the
 * larger worker's RSS at rest and under that load. The
 * baseline is the bare path at the same rate: the kafkajs reference producer and the bare
 * consume+insert loop (the port's librdkafka consumer) in one process (its RSS is the
 * baseline for the worker's).
 */
import { ensureSinkTable } from "../runtime/clickhouse/ensure-sink-table.js";
import { tableRef } from "../runtime/clickhouse/table-ddl.js";
import { ArrivalPoller, percentile } from "./arrivals.js";
import { deployedMemoryEnv, startChild, workerMemoryMiB, type Child } from "./child.js";
import type { ProcessStats } from "./children/serve.js";
import { sampleRss } from "./peak-rss.js";
import { clickHouseServerCpu } from "./kafka-engine.js";
import { describeInserts, type SinkInserts } from "./sink-drain.js";
import type { BenchContext } from "./context.js";
import { figure, type Figure } from "./report.js";

export interface PathRun {
  targetEventsPerSecond: number;
  sentEventsPerSecond: number;
  accepted: number;
  queryable: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  rssAtRestBytes: number;
  rssPeakBytes: number;
  /** Each process's peak RSS, by role (the collector and the sink run as separate processes, as in a cluster). */
  rssPeakByProcess: Record<string, number>;
  /** At the peak: V8's heap (reserved) and external (Buffers) memory; the rest of RSS is native (librdkafka, the HTTP stacks). */
  heapTotalAtPeakBytes: number;
  heapUsedAtPeakBytes: number;
  externalAtPeakBytes: number;
  skippedRequests: number;
  requestP50Ms?: number | null;
  requestP99Ms?: number | null;
  /** Sluice's sink over the run: how many inserts, how large, how long each took (where accept->queryable goes past maxDelay). */
  sinkInserts?: SinkInserts;
  /** CPU-seconds over the run (sending and settling), per Sluice process and of the ClickHouse server (when on this machine). */
  cpuSeconds?: Record<string, number>;
}

interface RateResult {
  wallMs: number;
  requests: number;
  skipped: number;
  accepts: [number, number, number][];
  requestMs?: number[];
}

const MAX_IN_FLIGHT = 64;

async function restingRss(child: Child): Promise<number> {
  // Let start-up allocations settle (group join, metadata) before calling it "at rest".
  await new Promise((r) => setTimeout(r, 2_000));
  return (await child.stats()).rssBytes;
}

/** `processes`: the measured side's processes by role; RSS figures are the largest of them (one pod each in a cluster). */
async function measure(ctx: BenchContext, table: string, prefix: string, processes: Record<string, Child>, send: () => Promise<RateResult>, targetRate: number): Promise<PathRun> {
  const children = Object.values(processes);
  const rssAtRestBytes = Math.max(...(await Promise.all(children.map(restingRss))));
  const poller = new ArrivalPoller(ctx.ch, table, prefix, ctx.cfg.pollIntervalMs);
  poller.start();
  const samplers = children.map((c) => sampleRss(c));
  const run = await send();
  const accepted = run.accepts.reduce((n, a) => n + a[1], 0);
  const settleBy = Date.now() + ctx.cfg.latencySettleMs;
  while (poller.seenAt.size < accepted && Date.now() < settleBy) await new Promise((r) => setTimeout(r, 100));
  const peaks = await Promise.all(samplers.map((r) => r.stop()));
  const peak = peaks.reduce<ProcessStats | undefined>((a, b) => (b && (!a || b.rssBytes > a.rssBytes) ? b : a), undefined);
  const rssPeakBytes = peak?.rssBytes ?? 0;
  const rssPeakByProcess = Object.fromEntries(Object.keys(processes).map((role, i) => [role, peaks[i]?.rssBytes ?? 0]));
  await poller.stop();
  const latencies: number[] = [];
  for (const [first, count, at] of run.accepts) {
    for (let i = first; i < first + count; i++) {
      const seen = poller.seenAt.get(i);
      if (seen !== undefined) latencies.push(Math.max(0, seen - at));
    }
  }
  latencies.sort((a, b) => a - b);
  const req = (run.requestMs ?? []).sort((a, b) => a - b);
  return {
    targetEventsPerSecond: targetRate,
    sentEventsPerSecond: (accepted * 1000) / run.wallMs,
    accepted,
    queryable: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies.at(-1) ?? null,
    rssAtRestBytes,
    rssPeakBytes,
    rssPeakByProcess,
    heapTotalAtPeakBytes: peak?.heapTotalBytes ?? 0,
    heapUsedAtPeakBytes: peak?.heapUsedBytes ?? 0,
    externalAtPeakBytes: peak?.externalBytes ?? 0,
    skippedRequests: run.skipped,
    ...(run.requestMs ? { requestP50Ms: percentile(req, 0.5), requestP99Ms: percentile(req, 0.99) } : {}),
  };
}

/** The collector and the sink in separate processes, as two pods in a cluster, with a load generator; `run` gets the collector's URL. */
async function withSluicePipeline<T>(ctx: BenchContext, table: string, run: (p: { url: string; tenants: Record<string, string>; table: string; load: Child; processes: Record<string, Child> }) => Promise<T>): Promise<T> {
  const p = await ctx.newPipeline("bench-l", table);
  const childEnv = { kafkaBrokers: ctx.kafkaBrokers, clickhouseUrl: ctx.clickhouseUrl, database: ctx.database, eventBytes: String(ctx.cfg.eventBytes) };
  const collector = await startChild("worker", childEnv, "latency-collector", deployedMemoryEnv());
  const sink = await startChild("worker", childEnv, "latency-sink", deployedMemoryEnv());
  const load = await startChild("load", childEnv, "latency-load");
  try {
    await sink.call("startSink", { namespace: p.stream.namespace, table: p.sink.table });
    const { url } = await collector.call<{ url: string }>("startCollector", { namespace: p.stream.namespace });
    return await run({ url, tenants: p.tenants, table: tableRef(p.sink), load, processes: { collector, sink } });
  } finally {
    await load.stop();
    await collector.stop();
    await sink.stop();
  }
}

async function sluicePath(ctx: BenchContext, rate: number): Promise<PathRun> {
  const { cfg } = ctx;
  return withSluicePipeline(ctx, `latency_sluice_${Math.round(rate)}`, async ({ url, tenants, table, load, processes }) => {
    const prefix = `${ctx.runId}-l${Math.round(rate)}`;
    const args = { url, tenants, prefix, eventsPerSecond: rate, durationMs: cfg.latencyRunMs, perRequest: cfg.perRequest, maxInFlight: MAX_IN_FLIGHT };
    // What the run cost, where: fewer, larger inserts show as ClickHouse CPU more than as latency.
    const server = clickHouseServerCpu(ctx.clickhouseUrl);
    const cpu = async (): Promise<Record<string, number>> => ({
      ...Object.fromEntries(await Promise.all(Object.entries(processes).map(async ([role, c]) => [role, (await c.stats()).cpuMs] as const))),
      ...("cpuMs" in server ? { clickhouse: server.cpuMs() } : {}),
    });
    const before = await cpu();
    const run = await measure(ctx, table, prefix, processes, () => load.call<RateResult>("rate", args, cfg.latencyRunMs + 120_000), rate);
    const after = await cpu();
    const cpuSeconds = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, (v - (before[k] ?? 0)) / 1000]));
    return { ...run, sinkInserts: await processes.sink!.call<SinkInserts>("sinkBatches"), cpuSeconds };
  });
}

export interface CapacityRun {
  offeredEventsPerSecond: number;
  /** Over the steady window: events the collector answered 200 for, and events that became queryable, per second. */
  acceptedEventsPerSecond: number;
  queryableEventsPerSecond: number;
  windowMs: number;
  skippedRequests: number;
}

/** The part of the run the capacity is read over: past the first quarter (group join, the first batches, the JIT warming up) to the end of sending. */
export const STEADY_FROM = 0.25;

/** Events per second whose time falls in [from, to). */
export function rateIn(times: Iterable<number>, from: number, to: number, weight: (i: number) => number = () => 1): number {
  let n = 0;
  let i = 0;
  for (const t of times) {
    if (t >= from && t < to) n += weight(i);
    i++;
  }
  return to > from ? (n * 1000) / (to - from) : 0;
}

/**
 * The pipeline's capacity as it runs here: the collector, the sink, the load generator,
 * Kafka and ClickHouse all on these 2 cores, so each stage gets less than it did alone
 * (benchmarks 1 and 2), and 80% of the slower stage alone was past what the whole can
 * take (the 20:15 run of 30 Nov: 14.0k of 15.4k events/s sent, 270 requests skipped, p50
 * 3 s). Offered a quarter more than the slower stage alone, the rate at which events
 * become queryable over the steady window is what the whole sustains: the sink's rate if
 * it falls behind, the collector's if not.
 */
async function colocatedCapacity(ctx: BenchContext, ceiling: number): Promise<CapacityRun> {
  const { cfg } = ctx;
  const offered = Math.round(ceiling * 1.25);
  return withSluicePipeline(ctx, "latency_capacity", async ({ url, tenants, table, load }) => {
    const prefix = `${ctx.runId}-cap`;
    const poller = new ArrivalPoller(ctx.ch, table, prefix, cfg.pollIntervalMs);
    poller.start();
    const started = Date.now();
    const args = { url, tenants, prefix, eventsPerSecond: offered, durationMs: cfg.latencyRunMs, perRequest: cfg.perRequest, maxInFlight: MAX_IN_FLIGHT };
    const run = await load.call<RateResult>("rate", args, cfg.latencyRunMs + 120_000);
    await poller.stop();
    const from = started + cfg.latencyRunMs * STEADY_FROM;
    const to = started + cfg.latencyRunMs;
    return {
      offeredEventsPerSecond: offered,
      acceptedEventsPerSecond: rateIn(run.accepts.map((a) => a[2]), from, to, (i) => run.accepts[i]![1]),
      queryableEventsPerSecond: rateIn(poller.seenAt.values(), from, to),
      windowMs: to - from,
      skippedRequests: run.skipped,
    };
  });
}

async function barePath(ctx: BenchContext, rate: number): Promise<PathRun> {
  const { cfg } = ctx;
  const p = await ctx.newPipeline("bench-lb", `latency_bare_${Math.round(rate)}`);
  await ensureSinkTable(ctx.ch, p.sink, ctx.features);
  const childEnv = { kafkaBrokers: ctx.kafkaBrokers, clickhouseUrl: ctx.clickhouseUrl, database: ctx.database, eventBytes: String(cfg.eventBytes) };
  const bare = await startChild("bare", childEnv, "latency-bare", deployedMemoryEnv());
  try {
    await bare.call("consume", { topic: p.stream.topic, groupId: p.sink.groupId, table: tableRef(p.sink), dateTime64: ctx.features.dateTime64 });
    const prefix = `${ctx.runId}-b${Math.round(rate)}`;
    const args = { topic: p.stream.topic, prefix, eventsPerSecond: rate, durationMs: cfg.latencyRunMs, perRequest: cfg.perRequest, maxInFlight: MAX_IN_FLIGHT };
    return await measure(ctx, tableRef(p.sink), prefix, { "producer+loop": bare }, () => bare.call<RateResult>("produceRate", args, cfg.latencyRunMs + 120_000), rate);
  } finally {
    await bare.stop();
  }
}

export async function latencyAndMemory(ctx: BenchContext, capacity: number): Promise<{ figures: Figure[]; detail: Record<string, unknown> }> {
  const figures: Figure[] = [];
  const detail: Record<string, unknown> = {};
  const mib = (b: number) => b / 1024 / 1024;
  const fixed = ctx.cfg.latencyRates;
  // Fixed rates stand for themselves: "load" is then the rate over the largest one.
  const loads = fixed.length > 0 ? fixed.map((r) => r / Math.max(...fixed)) : ctx.cfg.latencyLoads;
  let pipelineCapacity = Math.max(...fixed);
  if (fixed.length === 0) {
    const co = await colocatedCapacity(ctx, capacity);
    detail.capacity = { slowerStageAlone: capacity, colocated: co };
    pipelineCapacity = Math.min(capacity, co.queryableEventsPerSecond);
    console.log(`  capacity here, collector and sink together: ${Math.round(co.queryableEventsPerSecond)} ev/s queryable (${Math.round(co.acceptedEventsPerSecond)} accepted; slower stage alone ${Math.round(capacity)})`);
    figures.push(figure({
      bench: "3 pipeline capacity, co-located", metric: "events/s queryable, saturated", unit: "ev/s", value: co.queryableEventsPerSecond,
      baseline: "the slower stage alone (benchmarks 1, 2)", baselineValue: capacity,
      note: `offered ${co.offeredEventsPerSecond} ev/s for ${ctx.cfg.latencyRunMs / 1000} s to the collector and sink processes, with Kafka, ClickHouse and the load generator on the same cores; accepted ${Math.round(co.acceptedEventsPerSecond)} ev/s over the last ${Math.round(co.windowMs / 1000)} s; the latency rows run at fractions of the smaller of the two figures`,
    }));
  }
  for (const load of loads) {
    const rate = Math.max(ctx.cfg.perRequest, Math.round(pipelineCapacity * load));
    const sluice = await sluicePath(ctx, rate);
    console.log(`  ${Math.round(load * 100)}% (${rate} ev/s) sluice: p50 ${sluice.p50Ms} ms, p99 ${sluice.p99Ms} ms, ${sluice.queryable}/${sluice.accepted} queryable`);
    const bare = await barePath(ctx, rate);
    console.log(`  ${Math.round(load * 100)}% (${rate} ev/s) bare:   p50 ${bare.p50Ms} ms, p99 ${bare.p99Ms} ms, ${bare.queryable}/${bare.accepted} queryable`);
    detail[`load_${load}`] = { sluice, bare };
    const at = fixed.length > 0 ? `${rate} ev/s, fixed` : `${Math.round(load * 100)}%`;
    const bench = fixed.length > 0 ? `3 latency @${at}` : `3 latency @${at} (${rate} ev/s)`;
    const baseline = "bare producer+loop, same rate";
    const lost = sluice.accepted - sluice.queryable;
    const note = [
      `sent ${Math.round(sluice.sentEventsPerSecond)} ev/s accepted (bare ${Math.round(bare.sentEventsPerSecond)})`,
      lost > 0 ? `${lost} accepted events not queryable within ${ctx.cfg.latencySettleMs / 1000} s after the run` : "",
      sluice.skippedRequests > 0 ? `${sluice.skippedRequests} requests skipped (over ${MAX_IN_FLIGHT} in flight: past capacity)` : "",
      sluice.requestP50Ms != null ? `HTTP request p50 ${sluice.requestP50Ms} ms, p99 ${sluice.requestP99Ms} ms` : "",
      sluice.sinkInserts ? `sink: ${describeInserts(sluice.sinkInserts)}` : "",
      sluice.cpuSeconds ? `CPU over the run: ${Object.entries(sluice.cpuSeconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")}` : "",
    ].filter(Boolean).join("; ");
    figures.push(
      figure({ bench, metric: "accept->queryable p50", unit: "ms", value: sluice.p50Ms, baseline, baselineValue: bare.p50Ms, note }),
      figure({ bench, metric: "accept->queryable p99", unit: "ms", value: sluice.p99Ms, baseline, baselineValue: bare.p99Ms }),
    );
    const memBench = `4 worker RSS @${at}`;
    const memBaseline = "bare producer+loop process";
    if (load === loads[0]) {
      figures.push(figure({ bench: "4 worker RSS", metric: "at rest (the larger of collector and sink)", unit: "MiB", value: mib(sluice.rssAtRestBytes), baseline: memBaseline, baselineValue: mib(bare.rssAtRestBytes) }));
    }
    const held = (r: PathRun) => `V8 heap ${Math.round(mib(r.heapTotalAtPeakBytes))} MiB (${Math.round(mib(r.heapUsedAtPeakBytes))} in use), Buffers ${Math.round(mib(r.externalAtPeakBytes))} MiB, native rest ${Math.round(mib(r.rssPeakBytes - r.heapTotalAtPeakBytes - r.externalAtPeakBytes))} MiB`;
    const byProcess = Object.entries(sluice.rssPeakByProcess).map(([role, b]) => `${role} ${Math.round(mib(b))} MiB`).join(", ");
    const memNote = `the larger of the collector's and the sink's process (${byProcess}), each like the bare process in the memory environment of a ${workerMemoryMiB()} MiB worker pod (operator/workload/memory-env.ts); at the peak: Sluice ${held(sluice)}; bare ${held(bare)}`;
    figures.push(figure({ bench: memBench, metric: "peak under load", unit: "MiB", value: mib(sluice.rssPeakBytes), baseline: memBaseline, baselineValue: mib(bare.rssPeakBytes), note: memNote }));
  }
  return { figures, detail };
}
