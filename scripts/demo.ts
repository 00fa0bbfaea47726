/**
 * `make demo`: the clickstream example end to end on the local testbed. Starts (or
 * reuses) real Kafka and ClickHouse, runs the pipeline in-process as `sluice run` would,
 * sends page views through the HTTP collector, and shows them queryable in ClickHouse.
 */
import { join } from "node:path";
import { createClient } from "@clickhouse/client";
import { loadPipeline } from "../runtime/pipeline/load.js";
import { runPipeline } from "../runtime/pipeline/run-pipeline.js";
import { jsonLogger } from "../runtime/log.js";
import { startTestbed } from "../testbed/testbed.js";
import { repoRoot } from "../testbed/paths.js";
import { waitFor } from "../testbed/poll.js";
import { runLoad } from "../testbed/load-generator.js";
import { oracle } from "../testbed/oracle.js";

const EVENTS = Number(process.env.DEMO_EVENTS ?? 20_000);

async function main(): Promise<void> {
  let kafka = process.env.KAFKA_BROKERS;
  let clickhouse = process.env.CLICKHOUSE_URL;
  let stopTestbed = async () => {};
  if (!kafka || !clickhouse) {
    console.log("starting a local testbed (Kafka, ClickHouse, Kubernetes API) ...");
    const tb = await startTestbed();
    ({ KAFKA_BROKERS: kafka, CLICKHOUSE_URL: clickhouse } = tb.env);
    stopTestbed = tb.stop;
  }
  const pipeline = loadPipeline([join(repoRoot, "examples", "clickstream")]);
  const running = await runPipeline({ pipeline, kafkaBrokers: kafka.split(","), clickhouseUrl: clickhouse, port: 0, log: { ...jsonLogger("demo"), info: () => {} } });
  try {
    const stream = pipeline.streams[0]!;
    const sink = pipeline.sinks[0]!;
    const table = `${sink.database}.${sink.table}`;
    console.log(`\npipeline up: POST ${running.collectorUrl}/v1/streams/${stream.name}/events -> ${stream.topic} -> ${table}`);
    const t0 = Date.now();
    const load = await runLoad({ url: running.collectorUrl, stream: stream.name, tenants: pipeline.secrets.get(stream.ingest.authSecret!)!, events: EVENTS, perRequest: 100, concurrency: 8 });
    const sent = Date.now();
    console.log(`sent ${EVENTS} page views in ${sent - t0} ms: ${load.accepted.size} accepted (${Math.round(load.accepted.size / ((sent - t0) / 1000))} events/s)`);
    await waitFor(`all accepted events queryable in ${table}`, async () => ((await oracle(clickhouse!, table, load.accepted)).lost === 0 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    console.log(`all queryable ${Date.now() - sent} ms after the last accept`);
    // Read again once everything has landed, so the counts come from one settled table.
    const verdict = await oracle(clickhouse!, table, load.accepted);
    console.log(`oracle: accepted ${verdict.accepted}, lost ${verdict.lost}, duplicates ${verdict.duplicates} (table: ${verdict.rawRows} raw rows, ${verdict.dedupedRows} after dedupe, including earlier demo runs)`);
    if (verdict.lost !== 0 || verdict.duplicates !== 0) throw new Error("the demo pipeline lost or duplicated events");
    const ch = createClient({ url: clickhouse });
    const rows = await (await ch.query({
      query: `SELECT tenant_id, toStartOfMinute(event_time) AS minute, uniqExact(user_id) AS active_users, count() AS views
              FROM ${table} FINAL GROUP BY tenant_id, minute ORDER BY minute DESC, tenant_id LIMIT 6`,
      format: "JSONEachRow",
    })).json();
    await ch.close();
    console.log("\nactive users per minute per shop (from the raw table):");
    console.table(rows);
  } finally {
    await running.stop();
    await stopTestbed();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    process.exit(1);
  },
);
