/**
 * One sink drain: a fresh worker process (benchmark 2's `worker` child) runs `startSink`
 * in its own consumer group until every record of the pre-filled topic is a row in its
 * table; CPU is the process's from the call to the last row queryable.
 */
import { tableRef } from "../runtime/clickhouse/table-ddl.js";
import type { CompiledSink } from "../runtime/pipeline/compiled.js";
import { startChild } from "./child.js";
import { sampleRss } from "./peak-rss.js";
import { waitForRows, type BenchContext, type Drain } from "./context.js";

export interface SinkDrain extends Drain {
  cpuMs: number;
  inserts: SinkInserts;
  /** The worker's peak RSS over the drain, sampled every 250 ms. */
  peakRssBytes: number;
}

/** A sink worker's inserts, from its metrics: fewer, larger inserts cost less per row; a retry is work done twice. */
export interface SinkInserts {
  inserts: number;
  insertedRows: number;
  /** Summed time of the acknowledged inserts (sluice_sink_insert_seconds). */
  insertSeconds: number;
  /** Mean of sluice_sink_ingest_to_fetched_seconds: ingest to the sink receiving a fetched batch's first record. */
  fetchWaitMs: number | null;
  insertRetries: number;
  kafkaRetries: number;
  pauses: number;
}

export async function sinkDrain(
  ctx: BenchContext,
  childEnv: Record<string, string>,
  sink: CompiledSink,
  o: {
    role: string;
    table: string;
    groupId?: string;
    env?: Record<string, string>;
    records: number;
    /** Called just before the sink starts and just after its last row is queryable: other CPU counted over the same window. */
    window?: { start(): void; end(): void };
  },
): Promise<SinkDrain> {
  const worker = await startChild("worker", childEnv, o.role, o.env);
  try {
    const before = await worker.stats();
    o.window?.start();
    const rss = sampleRss(worker);
    const t0 = Date.now();
    await worker.call("startSink", { namespace: sink.stream.namespace, table: o.table, ...(o.groupId ? { groupId: o.groupId } : {}) });
    const drain = await waitForRows(ctx.ch, tableRef({ ...sink, table: o.table }), o.records, t0, ctx.cfg.drainTimeoutMs);
    o.window?.end();
    const cpuMs = (await worker.stats()).cpuMs - before.cpuMs;
    const peak = await rss.stop();
    return { ...drain, cpuMs, peakRssBytes: peak?.rssBytes ?? 0, inserts: await worker.call<SinkInserts>("sinkBatches") };
  } finally {
    await worker.stop();
  }
}

export function describeInserts(i: SinkInserts): string {
  return `${i.inserts} inserts of ${Math.round(i.insertedRows / Math.max(1, i.inserts))} rows on average (${Math.round((i.insertSeconds * 1000) / Math.max(1, i.inserts))} ms each)${i.fetchWaitMs === null ? "" : `, ${Math.round(i.fetchWaitMs)} ms from ingest to fetched on average`}, ${i.insertRetries} insert and ${i.kafkaRetries} Kafka retries, ${i.pauses} partition pauses`;
}
