/**
 * ClickHouse's own Kafka engine as the sink anchor, in-process: chdb (ClickHouse 26.x as a
 * library) in this process runs a Kafka engine table on the bench topic, a materialized
 * view and a MergeTree target, so this process's CPU time (user + system, every thread)
 * is all of ClickHouse's work for the drain: consuming, parsing, writing parts, merging.
 * The testbed's server (18.16) cannot be the anchor: its bundled librdkafka consumes
 * nothing from this broker.
 *
 * One chdb session on a temporary data directory, removed by `stop` (or at exit):
 * - `open`: loads chdb and answers its version (an error here: chdb cannot load);
 * - `prepare`: creates the Kafka engine table and the target (nothing consumed yet);
 * - `drain`: creates the view, which starts the consumption, and polls the target's count
 *   until it holds `expected` rows, the deadline passes, or nothing arrived within `stallMs`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Session } from "chdb";
import { childArgs, serve } from "./serve.js";

const { kafkaBrokers } = childArgs<{ kafkaBrokers: string }>();

/**
 * Chosen by a quick measurement on the shared 2-core testbed (200,000 records of ~500 bytes
 * on 12 partitions, chdb 26.7.2.1, 3-4 drains each, rows per CPU-second of this process):
 * - kafka_num_consumers 1 (~90-113k) vs 2 (~93-103k), 2 with kafka_thread_per_consumer 1
 *   (~98-103k): the same within the noise of the shared machine; two consumers only drain
 *   faster in wall time. One consumer is what one Sluice sink worker runs, so the anchor
 *   is one consumer and kafka_thread_per_consumer has nothing to parallelise;
 * - kafka_max_block_size 65536: blocks of the size a sink flushes (maxRows 50,000,
 *   maxBytes 16 MiB ~ 33,000 such rows). 16384 cost a third more CPU per row (~69k); the
 *   default (max_insert_block_size, 1,048,576) made one block of the whole backlog
 *   (~92-117k), which no steady stream gives and the sink is not allowed either;
 * - kafka_flush_interval_ms 1000: the sink's maxDelay. It only decides when the last
 *   partial block is written after the topic runs dry: the default (7,500 ms) cost no less
 *   CPU (~92k) and kept the drain waiting on a timer.
 */
export const ENGINE_SETTINGS: Record<string, number> = {
  kafka_num_consumers: 1,
  kafka_thread_per_consumer: 0,
  kafka_max_block_size: 65_536,
  kafka_flush_interval_ms: 1_000,
};

const COLUMNS = "event_id String, tenant_id String, user_id String, event_time String, url String, referrer String, duration_ms Int32";

let session: Session | undefined;
let dir: string | undefined;
let created = false;

const lit = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

async function run(query: string): Promise<string> {
  if (!session) throw new Error("open first");
  return (await session.queryAsync(query, { format: "TabSeparated" })).text();
}

function close(): void {
  session?.close();
  session = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}
// The parent going away ends this process (serve.ts): the data directory goes with it.
process.on("exit", close);

serve({
  open: async () => {
    dir = mkdtempSync(join(tmpdir(), "sluice-bench-chdb-"));
    session = new Session(dir);
    const version = (await run("SELECT version()")).trim();
    await run("CREATE DATABASE IF NOT EXISTS bench");
    return { version, dataPath: dir };
  },
  prepare: async (a: { topic: string; group: string; settings?: Record<string, number> }) => {
    const settings = { ...ENGINE_SETTINGS, ...a.settings };
    await run(`CREATE TABLE bench.kafka_queue (${COLUMNS}) ENGINE = Kafka
               SETTINGS kafka_broker_list = ${lit(kafkaBrokers)}, kafka_topic_list = ${lit(a.topic)}, kafka_group_name = ${lit(a.group)}, kafka_format = 'JSONEachRow',
               ${Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join(", ")}`);
    await run(`CREATE TABLE bench.sink_kafka_engine (event_id String, tenant_id String, user_id String, event_time DateTime, url String, referrer String, duration_ms Int32)
               ENGINE = MergeTree() PARTITION BY toYYYYMM(event_time) ORDER BY (tenant_id, event_time, event_id)`);
    created = true;
    return { settings };
  },
  drain: async (a: { expected: number; timeoutMs: number; stallMs: number; pollMs?: number }) => {
    const t0 = Date.now();
    // The view is what starts the consumption.
    await run(`CREATE MATERIALIZED VIEW bench.kafka_mv TO bench.sink_kafka_engine AS
               SELECT event_id, tenant_id, user_id, parseDateTimeBestEffort(event_time) AS event_time, url, referrer, duration_ms FROM bench.kafka_queue`);
    for (;;) {
      const rows = Number((await run("SELECT count() FROM bench.sink_kafka_engine")).trim());
      const now = Date.now();
      if (rows >= a.expected) return { rows, ms: now - t0, complete: true };
      if (now - t0 > a.timeoutMs || (rows === 0 && now - t0 > a.stallMs)) return { rows, ms: now - t0, complete: false };
      await new Promise((r) => setTimeout(r, a.pollMs ?? 100));
    }
  },
  stop: async () => {
    // Drop the consumer first, so it stops polling Kafka and leaves its group at once.
    if (created) {
      await run("DROP TABLE IF EXISTS bench.kafka_mv").catch(() => {});
      await run("DROP TABLE IF EXISTS bench.kafka_queue").catch(() => {});
    }
    close();
    return {};
  },
});
