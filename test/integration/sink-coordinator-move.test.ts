/**
 * Issue 13: a retriable Kafka error killed the sink. Its partition start reads the group's
 * committed offsets from the group coordinator, at start and at every rebalance; a
 * coordinator that moved or was still loading failed the worker for good. Here two sinks
 * share a group on a 3-broker cluster while the broker that coordinates their group is
 * SIGKILLed in the middle of a rebalance (the second sink joining), then restarted.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@clickhouse/client";
import type { Registry } from "prom-client";
import { ensureSinkTable } from "../../runtime/clickhouse/ensure-sink-table.js";
import { detectServerFeatures } from "../../runtime/clickhouse/server-version.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import type { KafkaAdmin, KafkaProducer } from "../../runtime/kafka/port.js";
import { jsonLogger, type Logger } from "../../runtime/log.js";
import { createRegistry } from "../../runtime/metrics/registry.js";
import { loadPipeline } from "../../runtime/pipeline/load.js";
import { provisionTopics } from "../../runtime/pipeline/provision-topics.js";
import { startSink, type SinkHandle } from "../../runtime/sink/start-sink.js";
import { clickEvent } from "../../testbed/load-generator.js";
import { startKafka, type KafkaCluster } from "../../testbed/kafka.js";
import { oracle } from "../../testbed/oracle.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

/** The testbed's brokers keep four offsets partitions (testbed/kafka.ts). */
const OFFSETS_PARTITIONS = 4;

describe("sinks on a 3-broker Kafka while their group's coordinator moves", () => {
  const env = testbedEnv();
  const pipeline = loadPipeline([join(repoRoot, "examples", "clickstream")], randomName("coordmove"));
  const stream = pipeline.streams[0]!;
  Object.assign(stream, { partitions: 6, replicationFactor: 3, minInSyncReplicas: 2 });
  const sink = { ...pipeline.sinks[0]!, database: randomName("coordmove").replace("-", "_") };
  sink.batching = { maxRows: 500, maxBytes: 8 << 20, maxDelayMs: 200 };
  const dir = mkdtempSync(join(tmpdir(), "sluice-coordmove-"));
  let cluster: KafkaCluster;
  let brokers: string[];
  let admin: KafkaAdmin;
  let producer: KafkaProducer;
  const sinks: { handle: SinkHandle; registry: Registry; failure?: Error }[] = [];

  beforeAll(async () => {
    cluster = await startKafka({ dir, logDir: dir, brokers: 3 });
    brokers = cluster.bootstrap.split(",");
    admin = kafkaClient(brokers, "coordmove-admin").admin();
    await admin.connect();
    // A just-started broker of a loaded machine can miss a heartbeat and drop out of the
    // cluster's metadata for a moment, and a replication factor of 3 is then (rightly)
    // refused ("the Kafka cluster has 2 brokers", seen in a fresh-clone CI run): provisioning
    // is retried until all three are back, as broker-faults.test.ts does.
    await waitFor("the topics provisioned on all 3 brokers", async () => (await provisionTopics(admin, pipeline.streams, { clampToBrokers: false }), true), { timeoutMs: 60_000, intervalMs: 1_000 });
    const ch = createClient({ url: env.clickhouseUrl });
    await ensureSinkTable(ch, sink, await detectServerFeatures(ch));
    await ch.close();
    producer = kafkaClient(brokers, "coordmove-producer").producer();
    await producer.connect();
  }, 240_000);

  afterAll(async () => {
    await Promise.all(sinks.map((s) => s.handle.stop().catch(() => {})));
    await producer?.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await Promise.all(cluster?.servers.map((s) => s.stop()) ?? []);
    const ch = createClient({ url: env.clickhouseUrl });
    await ch.command({ query: `DROP DATABASE IF EXISTS ${sink.database}` }).catch(() => {});
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const logger = (name: string): Logger =>
    process.env.SINK_TEST_LOGS ? jsonLogger(name) : { info: () => {}, warn: () => {}, error: (msg, f) => console.error(name, msg, f) };

  async function runSink(name: string): Promise<void> {
    const registry = createRegistry(false);
    const handle = await startSink({ sink, kafkaBrokers: brokers, clickhouseUrl: env.clickhouseUrl, registry, instanceId: name, logger: logger(name), sessionTimeoutMs: 6_000, backoff: { initialMs: 100, maxMs: 2_000 } });
    const entry: (typeof sinks)[number] = { handle, registry };
    handle.failed.catch((err: Error) => (entry.failure = err));
    sinks.push(entry);
  }

  /** The broker leading the offsets partition of the sinks' group: Kafka's own placement rule. */
  async function coordinator(): Promise<number> {
    const partition = (javaHashCode(sink.groupId) & 0x7fffffff) % OFFSETS_PARTITIONS;
    return waitFor("the group's coordinator", async () => {
      const [t] = (await admin.fetchTopicMetadata({ topics: ["__consumer_offsets"] })).topics;
      const leader = t?.partitions.find((p) => p.partitionId === partition)?.leader ?? -1;
      return leader > 0 ? leader : undefined;
    }, { timeoutMs: 60_000 });
  }

  it("a coordinator SIGKILLed during a rebalance, then restarted: nothing lost, nothing duplicated, no sink exits", async () => {
    const accepted = new Set<string>();
    let producing = true;
    let n = 0;
    const load = (async () => {
      while (producing) {
        const events = Array.from({ length: 20 }, () => clickEvent(n++, "shop-a"));
        try {
          await producer.send({ topic: stream.topic, messages: events.map((e) => ({ key: String(e.event_id), value: JSON.stringify(e) })) });
          for (const e of events) accepted.add(String(e.event_id));
        } catch {
          // Not acknowledged: not promised, so not counted (it may still be stored).
        }
      }
    })();
    await runSink("sink-a");
    await waitFor("rows flowing", async () => ((await oracle(env.clickhouseUrl, `${sink.database}.${sink.table}`, new Set())).dedupedRows > 200 ? true : undefined), { timeoutMs: 60_000 });

    const node = await coordinator();
    process.kill(cluster.servers[node - 1]!.pid, "SIGKILL");
    // A member joining now makes both sinks read their partitions' offsets from a group
    // whose coordinator is dead, then moving, then loading.
    const joining = runSink("sink-b");
    await waitFor("the coordinator moved to a live broker", async () => ((await coordinator()) !== node ? true : undefined), { timeoutMs: 90_000, intervalMs: 500 });
    await joining;
    await cluster.restartBroker(node);
    const before = accepted.size;
    await waitFor("more accepted after the return", async () => (accepted.size >= before + 500 ? true : undefined), { timeoutMs: 60_000 });
    producing = false;
    await load;

    const table = `${sink.database}.${sink.table}`;
    await waitFor("every acknowledged event in ClickHouse", async () => ((await oracle(env.clickhouseUrl, table, accepted)).lost === 0 ? true : undefined), { timeoutMs: 120_000, intervalMs: 500 });
    const verdict = await oracle(env.clickhouseUrl, table, accepted);
    console.log("[coordinator move]", JSON.stringify({ ...verdict, missingSample: undefined }));
    expect(verdict.lost).toBe(0);
    expect(verdict.duplicates).toBe(0);
    expect(sinks.map((s) => s.failure?.message)).toEqual([undefined, undefined]);
    // What the sinks waited out is visible: retries by step, and nothing retrying any more.
    const series = (await Promise.all(sinks.map((s) => s.registry.getMetricsAsJSON()))).flat();
    const values = (name: string) => series.filter((m) => m.name === name).flatMap((m) => m.values as { value: number; labels: Record<string, string> }[]);
    const retries = values("sluice_sink_kafka_retries_total");
    console.log("[coordinator move] kafka retries", JSON.stringify(retries.map((v) => [v.labels.step, v.value])));
    expect(retries.filter((v) => v.labels.step === "read offsets").reduce((n, v) => n + v.value, 0)).toBeGreaterThan(0);
    expect(values("sluice_sink_kafka_retrying").filter((v) => v.value !== 0)).toEqual([]);
  }, 420_000);
});

/** Java's String.hashCode, which Kafka uses to place a group on an offsets partition. */
function javaHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
