import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@clickhouse/client";
import { loadPipeline } from "../../runtime/pipeline/load.js";
import { runPipeline, type RunningPipeline } from "../../runtime/pipeline/run-pipeline.js";
import { provisionTopics } from "../../runtime/pipeline/provision-topics.js";
import { ensureSinkTable } from "../../runtime/clickhouse/ensure-sink-table.js";
import { detectServerFeatures } from "../../runtime/clickhouse/server-version.js";
import { startCollector, type CollectorHandle } from "../../runtime/collector/server.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { createRegistry } from "../../runtime/metrics/registry.js";
import { silentLogger } from "../../runtime/log.js";
import type { CompiledPipeline } from "../../runtime/pipeline/compiled.js";
import { startClickHouse, type ClickHouseServer } from "../../testbed/clickhouse.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { runLoad } from "../../testbed/load-generator.js";
import { oracle } from "../../testbed/oracle.js";
import { killHard, startChildSink } from "../support/child-sink.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const tenants = { "shop-a": "demo-key-shop-a", "shop-b": "demo-key-shop-b" };

/** The clickstream example in a private namespace and database, small enough for fault loops. */
function privatePipeline(): { pipeline: CompiledPipeline; table: string } {
  const pipeline = loadPipeline([join(repoRoot, "examples", "clickstream")], randomName("fault"));
  const stream = pipeline.streams[0]!;
  stream.partitions = 3;
  stream.deadLetterTopic = `${stream.topic}.dlq`;
  stream.ingest.rateLimit = undefined;
  const sink = pipeline.sinks[0]!;
  sink.database = randomName("fault").replace("-", "_");
  sink.batching = { maxRows: 2_000, maxBytes: 8 << 20, maxDelayMs: 200 };
  for (const a of pipeline.aggregations) {
    a.output.database = sink.database;
    if (a.late.policy === "Table") a.late.database = sink.database;
  }
  return { pipeline, table: `${sink.database}.${sink.table}` };
}

async function settle(clickhouseUrl: string, table: string, accepted: Set<string>) {
  await waitFor("every accepted event in ClickHouse", async () => ((await oracle(clickhouseUrl, table, accepted)).lost === 0 ? true : undefined), {
    timeoutMs: 180_000,
    intervalMs: 500,
  });
  return oracle(clickhouseUrl, table, accepted);
}

describe("when the sink is SIGKILLed", () => {
  const env = testbedEnv();
  const { pipeline, table } = privatePipeline();
  const sink = pipeline.sinks[0]!;
  let collector: CollectorHandle;
  const childEnv = { KAFKA_BROKERS: env.kafkaBrokers.join(","), CLICKHOUSE_URL: env.clickhouseUrl, SLUICE_SESSION_TIMEOUT_MS: "6000" };

  beforeAll(async () => {
    const admin = kafkaClient(env.kafkaBrokers, "faults-admin").admin();
    await admin.connect();
    await provisionTopics(admin, pipeline.streams, { clampToBrokers: true });
    await admin.disconnect();
    const ch = createClient({ url: env.clickhouseUrl });
    await ensureSinkTable(ch, sink, await detectServerFeatures(ch));
    await ch.close();
    collector = await startCollector({ streams: pipeline.streams, secrets: pipeline.secrets, kafkaBrokers: env.kafkaBrokers, port: 0, registry: createRegistry(false) });
  }, 60_000);
  afterAll(async () => {
    await collector?.stop();
  });

  it("before an insert, after an insert but before the commit, and 5 times at random, it loses and duplicates nothing", async () => {
    const accepted = new Set<string>();
    const send = async (events: number) => {
      const load = await runLoad({ url: collector.url, stream: "page-views", tenants, events, perRequest: 200, concurrency: 4 });
      load.accepted.forEach((id) => accepted.add(id));
    };
    const crashes: string[] = [];
    // (a) and (b): a failpoint kills the sink at its second batch, at that exact step.
    for (const point of ["sink.before-insert", "sink.after-insert"]) {
      const child = await startChildSink(sink, { ...childEnv, SLUICE_FAILPOINTS: `${point}=2` });
      await send(6_000);
      const exit = await child.exited;
      expect(exit.signal).toBe("SIGKILL");
      crashes.push(point);
    }
    // (c): killed at random moments while events keep arriving.
    for (let i = 0; i < 5; i++) {
      const child = await startChildSink(sink, childEnv);
      const sending = send(4_000);
      await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 1500)));
      killHard(child.process);
      await child.exited;
      await sending;
      crashes.push("random");
    }
    // The last restart drains everything.
    const survivor = await startChildSink(sink, childEnv);
    try {
      const v = await settle(env.clickhouseUrl, table, accepted);
      console.log(`crashes (${crashes.join(", ")}): accepted ${v.accepted}, raw rows ${v.rawRows}, deduplicated ${v.dedupedRows}, lost ${v.lost}, duplicates ${v.duplicates}`);
      expect(v.lost).toBe(0);
      expect(v.duplicates).toBe(0);
      expect(v.dedupedRows).toBe(accepted.size);
    } finally {
      survivor.process.kill("SIGTERM");
      await survivor.exited;
    }
  }, 400_000);
});

describe("when ClickHouse is down for 30 s under load", () => {
  const env = testbedEnv();
  const { pipeline, table } = privatePipeline();
  const dir = mkdtempSync(join(tmpdir(), "sluice-ch-outage-"));
  let ch: ClickHouseServer;
  let running: RunningPipeline;

  beforeAll(async () => {
    ch = await startClickHouse({ dir, logDir: dir });
    running = await runPipeline({ pipeline, kafkaBrokers: env.kafkaBrokers, clickhouseUrl: ch.url, port: 0, log: silentLogger });
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
    await Promise.all(ch?.servers.map((s) => s.stop()) ?? []);
    rmSync(dir, { recursive: true, force: true });
  });

  it("the collector keeps accepting, the sink pauses and resumes, and nothing is lost or duplicated", async () => {
    const accepted = new Set<string>();
    const statuses = new Map<number, number>();
    const send = async () => {
      const load = await runLoad({ url: running.collectorUrl, stream: "page-views", tenants, events: 2_000, perRequest: 100, concurrency: 2 });
      load.accepted.forEach((id) => accepted.add(id));
      load.statuses.forEach((n, code) => statuses.set(code, (statuses.get(code) ?? 0) + n));
    };
    await send();
    await ch.servers[0]!.stop();
    const downSince = Date.now();
    let duringOutage = 0;
    // Bounded: 30 s of load while ClickHouse is down, at a steady ~2k events/s.
    while (Date.now() - downSince < 30_000) {
      const before = accepted.size;
      const t0 = Date.now();
      await send();
      duringOutage += accepted.size - before;
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - t0))));
    }
    await ch.restart();
    await send();
    const v = await settle(ch.url, table, accepted);
    console.log(`outage: ${duringOutage} events accepted while ClickHouse was down; statuses ${JSON.stringify([...statuses])}; raw rows ${v.rawRows}, deduplicated ${v.dedupedRows}, lost ${v.lost}, duplicates ${v.duplicates}`);
    expect(duringOutage).toBeGreaterThan(10_000);
    expect([...statuses.keys()]).toEqual([200]);
    expect(v.lost).toBe(0);
    expect(v.duplicates).toBe(0);
  }, 300_000);
});
