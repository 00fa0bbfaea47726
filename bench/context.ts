/**
 * What every benchmark shares: the testbed's addresses (an already running testbed is
 * reused), the run's private ClickHouse database, a Kafka admin client, and cleanup of
 * everything the run created.
 */
import { randomBytes } from "node:crypto";
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { kafkaClient } from "../runtime/kafka/client.js";
import type { KafkaAdmin } from "../runtime/kafka/port.js";
import { detectServerFeatures, type ServerFeatures } from "../runtime/clickhouse/server-version.js";
import { startTestbed } from "../testbed/testbed.js";
import type { BenchConfig } from "./config.js";
import { benchPipeline, provision, type BenchPipeline } from "./pipeline.js";

export interface BenchContext {
  cfg: BenchConfig;
  runId: string;
  kafkaBrokers: string;
  clickhouseUrl: string;
  /** The run's private database: every table of the run, dropped at the end. */
  database: string;
  admin: KafkaAdmin;
  ch: ClickHouseClient;
  features: ServerFeatures;
  /** Compiles the example in a fresh namespace and creates its topics. */
  newPipeline(prefix: string, table: string): Promise<BenchPipeline>;
  close(): Promise<void>;
}

export async function benchContext(cfg: BenchConfig): Promise<BenchContext> {
  let kafkaBrokers = process.env.KAFKA_BROKERS;
  let clickhouseUrl = process.env.CLICKHOUSE_URL;
  let stopTestbed = async () => {};
  if (!kafkaBrokers || !clickhouseUrl) {
    console.log("starting a local testbed (Kafka, ClickHouse, Kubernetes API) ...");
    const tb = await startTestbed();
    ({ KAFKA_BROKERS: kafkaBrokers, CLICKHOUSE_URL: clickhouseUrl } = tb.env);
    stopTestbed = tb.stop;
    // Benchmark 8 finds the node (image, helm values, kubeconfig) in the environment, as the tests do.
    for (const [k, v] of Object.entries(tb.env)) if (v !== undefined) process.env[k] = v;
  }
  const runId = randomBytes(4).toString("hex");
  const database = `bench_${runId}`;
  const admin = kafkaClient(kafkaBrokers.split(","), "sluice-bench-admin").admin();
  await admin.connect();
  const ch = createClient({ url: clickhouseUrl, request_timeout: 60_000 });
  const features = await detectServerFeatures(ch);
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  const topics: string[] = [];
  return {
    cfg, runId, kafkaBrokers, clickhouseUrl, database, admin, ch, features,
    async newPipeline(prefix, table) {
      const p = benchPipeline(`${prefix}-${randomBytes(3).toString("hex")}`, database, table);
      await provision(admin, p);
      topics.push(p.stream.topic, p.stream.deadLetterTopic);
      return p;
    },
    async close() {
      if (!cfg.keep) {
        await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch((e: Error) => console.error(`could not drop ${database}: ${e.message}`));
        await admin.deleteTopics({ topics: [...new Set(topics)], timeout: 30_000 }).catch((e: Error) => console.error(`could not delete the bench topics: ${e.message}`));
      }
      await admin.disconnect();
      await ch.close();
      await stopTestbed();
    },
  };
}

/** Rows in a table now. */
export async function countRows(ch: ClickHouseClient, table: string): Promise<number> {
  const rs = await ch.query({ query: `SELECT count() AS n FROM ${table}`, format: "JSONEachRow" });
  const [row] = (await rs.json()) as { n: string | number }[];
  return Number(row?.n ?? 0);
}

export interface Drain {
  rows: number;
  ms: number;
  complete: boolean;
}

/**
 * Polls until `table` holds `expected` rows: the time from `t0` to that moment. Gives up
 * at the deadline, or early when nothing at all arrived within `stallMs`.
 */
export async function waitForRows(ch: ClickHouseClient, table: string, expected: number, t0: number, timeoutMs: number, stallMs = timeoutMs): Promise<Drain> {
  for (;;) {
    const rows = await countRows(ch, table);
    const now = Date.now();
    if (rows >= expected) return { rows, ms: now - t0, complete: true };
    if (now - t0 > timeoutMs || (rows === 0 && now - t0 > stallMs)) return { rows, ms: now - t0, complete: false };
    await new Promise((r) => setTimeout(r, 100));
  }
}
