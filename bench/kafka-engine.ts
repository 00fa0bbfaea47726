/**
 * ClickHouse draining a topic by itself: a Kafka engine table read by a materialized view
 * into a MergeTree table. Whether the server was built with the Kafka engine is found out
 * by trying to create the table; a server without it is reported, not failed.
 */
import type { BenchContext, Drain } from "./context.js";
import { waitForRows } from "./context.js";

export type EngineDrain = { available: true; drain: Drain } | { available: false; reason: string };

/** With no row at all after this long, the engine is not consuming (e.g. cannot talk to this broker). */
const STALL_MS = 30_000;

export async function kafkaEngineDrain(ctx: BenchContext, topic: string, group: string, expected: number): Promise<EngineDrain> {
  const db = ctx.database;
  const lit = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const queue = `${db}.kafka_queue`;
  const target = `${db}.sink_kafka_engine`;
  const view = `${db}.kafka_mv`;
  const columns = "event_id String, tenant_id String, user_id String, event_time String, url String, referrer String, duration_ms Int32";
  try {
    await ctx.ch.command({ query: `CREATE TABLE ${queue} (${columns}) ENGINE = Kafka(${lit(ctx.kafkaBrokers)}, ${lit(topic)}, ${lit(group)}, 'JSONEachRow')` });
  } catch (err) {
    return { available: false, reason: `CREATE TABLE ... ENGINE = Kafka failed on ClickHouse ${ctx.features.version.text}: ${(err as Error).message.split("\n")[0]}` };
  }
  try {
    await ctx.ch.command({
      query: `CREATE TABLE ${target} (event_id String, tenant_id String, user_id String, event_time DateTime, url String, referrer String, duration_ms Int32)
              ENGINE = MergeTree() PARTITION BY toYYYYMM(event_time) ORDER BY (tenant_id, event_time, event_id)`,
    });
    const t0 = Date.now();
    // The view is what starts the consumption.
    await ctx.ch.command({
      query: `CREATE MATERIALIZED VIEW ${view} TO ${target} AS
              SELECT event_id, tenant_id, user_id, parseDateTimeBestEffort(event_time) AS event_time, url, referrer, duration_ms FROM ${queue}`,
    });
    const drain = await waitForRows(ctx.ch, target, expected, t0, ctx.cfg.drainTimeoutMs, STALL_MS);
    if (drain.rows === 0) {
      return { available: false, reason: `the Kafka engine table was created, but ClickHouse ${ctx.features.version.text} consumed no row from ${topic} within ${STALL_MS / 1000} s (its bundled librdkafka against this broker)` };
    }
    return { available: true, drain };
  } finally {
    // Drop the consumer at once, so ClickHouse stops polling Kafka during the later benchmarks.
    await ctx.ch.command({ query: `DROP TABLE IF EXISTS ${view}` }).catch(() => {});
    await ctx.ch.command({ query: `DROP TABLE IF EXISTS ${queue}` }).catch(() => {});
  }
}
