/**
 * Benchmark 2: rows/s a sink needs to drain a pre-filled topic into ClickHouse, each
 * measured from its start to the moment every row is queryable (group join included:
 * the testbed broker has no initial rebalance delay). Three readers of the same topic:
 * the Sluice sink, a bare eachBatch + JSONEachRow insert loop on the port's (librdkafka)
 * consumer (the baseline), and ClickHouse's own Kafka table engine with a materialized
 * view, when the server has it. Then two Sluice sink processes in one group drain it again:
 * the scale-out efficiency the capacity plan uses.
 */
import { ensureSinkTable } from "../runtime/clickhouse/ensure-sink-table.js";
import { tableRef } from "../runtime/clickhouse/table-ddl.js";
import { startChild } from "./child.js";
import { waitForRows, type BenchContext, type Drain } from "./context.js";
import { kafkaEngineDrain } from "./kafka-engine.js";
import { figure, type Figure } from "./report.js";

export async function sinkThroughput(ctx: BenchContext): Promise<{ figures: Figure[]; detail: Record<string, unknown> }> {
  const { cfg } = ctx;
  const p = await ctx.newPipeline("bench-s", "sink_sluice");
  const childEnv = { kafkaBrokers: ctx.kafkaBrokers, clickhouseUrl: ctx.clickhouseUrl, database: ctx.database, eventBytes: String(cfg.eventBytes) };
  const n = cfg.sinkRecords;

  const filler = await startChild("bare", childEnv, "sink-filler");
  try {
    await filler.call("produce", { topic: p.stream.topic, prefix: `${ctx.runId}-s`, events: n, perRequest: 500, concurrency: 8 }, 300_000);
  } finally {
    await filler.stop();
  }
  console.log(`  pre-filled ${p.stream.topic} with ${n} records`);

  const worker = await startChild("worker", childEnv, "sink");
  let sluice: Drain & { cpuMs: number };
  try {
    const before = await worker.stats();
    const t0 = Date.now();
    await worker.call("startSink", { namespace: p.stream.namespace, table: p.sink.table });
    const drain = await waitForRows(ctx.ch, tableRef(p.sink), n, t0, cfg.drainTimeoutMs);
    sluice = { ...drain, cpuMs: (await worker.stats()).cpuMs - before.cpuMs };
  } finally {
    await worker.stop();
  }
  console.log(`  sluice sink: ${sluice.rows} rows in ${sluice.ms} ms`);

  // Scale-out: two worker processes in one (new) group drain the same backlog, as two pods
  // of a Sink would. Started one after the other, so the run includes the rebalance.
  const pair = await Promise.all([startChild("worker", childEnv, "sink-pair-a"), startChild("worker", childEnv, "sink-pair-b")]);
  let two: Drain & { cpuMs: number };
  try {
    const before = await Promise.all(pair.map((w) => w.stats()));
    const t0 = Date.now();
    for (const w of pair) await w.call("startSink", { namespace: p.stream.namespace, table: "sink_scaleout", groupId: `${p.sink.groupId}.scale-out` });
    const drain = await waitForRows(ctx.ch, tableRef({ ...p.sink, table: "sink_scaleout" }), n, t0, cfg.drainTimeoutMs);
    const after = await Promise.all(pair.map((w) => w.stats()));
    two = { ...drain, cpuMs: after.reduce((c, a, i) => c + a.cpuMs - before[i]!.cpuMs, 0) };
  } finally {
    await Promise.all(pair.map((w) => w.stop()));
  }
  console.log(`  two sluice sinks: ${two.rows} rows in ${two.ms} ms`);

  const bareSink = { ...p.sink, table: "sink_bare" };
  await ensureSinkTable(ctx.ch, bareSink, ctx.features);
  const bare = await startChild("bare", childEnv, "sink-bare-loop");
  let base: Drain & { cpuMs: number };
  try {
    const before = await bare.stats();
    const t0 = Date.now();
    await bare.call("consume", { topic: p.stream.topic, groupId: `${p.sink.groupId}.bare`, table: tableRef(bareSink), dateTime64: ctx.features.dateTime64 });
    const drain = await waitForRows(ctx.ch, tableRef(bareSink), n, t0, cfg.drainTimeoutMs);
    base = { ...drain, cpuMs: (await bare.stats()).cpuMs - before.cpuMs };
  } finally {
    await bare.stop();
  }
  console.log(`  bare loop: ${base.rows} rows in ${base.ms} ms`);

  const engine = await kafkaEngineDrain(ctx, p.stream.topic, `${p.sink.groupId}.ch-engine`, n);
  console.log(`  ClickHouse Kafka engine: ${engine.available ? `${engine.drain.rows} rows in ${engine.drain.ms} ms` : `unavailable (${engine.reason})`}`);

  const rate = (d: Drain) => (d.ms > 0 ? (d.rows * 1000) / d.ms : 0);
  const incomplete = (d: Drain, who: string) => (d.complete ? undefined : `${who} did not drain within ${cfg.drainTimeoutMs / 1000} s (${d.rows}/${n} rows)`);
  const bench = `2 sink (drain ${n} records)`;
  const notes = [incomplete(sluice, "the Sluice sink"), incomplete(base, "the bare loop")].filter(Boolean).join("; ");
  const perCpu = (d: Drain & { cpuMs: number }) => (d.rows * 1000) / d.cpuMs;
  const figures = [
    figure({ bench, metric: "rows/s (wall)", unit: "rows/s", value: rate(sluice), baseline: "bare consume+insert loop", baselineValue: rate(base), ...(notes ? { note: notes } : {}) }),
    figure({ bench, metric: "rows per CPU-second", unit: "rows/s/core", value: (sluice.rows * 1000) / sluice.cpuMs, baseline: "bare consume+insert loop", baselineValue: (base.rows * 1000) / base.cpuMs, note: "rows per CPU-second of the sink process (ClickHouse's own CPU not counted)" }),
    // What a second worker costs per row (rebalance, smaller batches per partition): the
    // capacity plan divides per-core figures by it. Wall time is not used: on 2 cores the
    // two workers share them with Kafka and ClickHouse.
    figure({
      bench, metric: "scale-out efficiency 1->2 sink workers (rows per CPU-second, 2 workers / 1)", unit: "fraction", value: perCpu(two) / perCpu(sluice), baseline: "1 worker", baselineValue: 1,
      note: `2 worker processes in one group: ${Math.round(perCpu(two))} rows per CPU-second (both processes) vs 1 worker's ${Math.round(perCpu(sluice))}${incomplete(two, "; the pair") ?? ""}`,
    }),
    figure({ bench, metric: "rows/s (wall), 2 workers", unit: "rows/s", value: rate(two), baseline: "1 worker", baselineValue: rate(sluice), note: "on this 2-core machine the workers share the cores with Kafka and ClickHouse: wall time does not scale here" }),
  ];
  if (engine.available) {
    figures.push(figure({
      bench, metric: "ClickHouse Kafka engine + MV rows/s", unit: "rows/s", value: rate(engine.drain), baseline: "bare consume+insert loop", baselineValue: rate(base),
      note: `ClickHouse ${ctx.features.version.text} consuming the same topic itself${incomplete(engine.drain, "; it") ?? ""}`,
    }));
  } else {
    figures.push(figure({ bench, metric: "ClickHouse Kafka engine + MV rows/s", unit: "rows/s", value: null, baseline: "bare consume+insert loop", baselineValue: rate(base), note: `not measured: ${engine.reason}` }));
  }
  return { figures, detail: { topic: p.stream.topic, records: n, sluice, twoWorkers: two, bare: base, kafkaEngine: engine } };
}
