/**
 * The sink against the real testbed: Kafka (KRaft) and Debian's ClickHouse 18.16, with
 * random topic, group and database names. Counts are read the documented way (FINAL,
 * uniqExact) and the raw count is printed beside them to show what the backstop did.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createClient } from "@clickhouse/client";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { kafkaClient } from "../../runtime/kafka/client.js";
import type { KafkaAdmin, KafkaProducer } from "../../runtime/kafka/port.js";
import { createRegistry } from "../../runtime/metrics/registry.js";
import { silentLogger } from "../../runtime/log.js";
import { startSink, type SinkHandle } from "../../runtime/sink/start-sink.js";
import { RetentionGapError } from "../../runtime/sink/errors.js";
import { decodeIntent } from "../../runtime/sink/offset-intent.js";
import { detectServerFeatures } from "../../runtime/clickhouse/server-version.js";
import { ensureSinkTable, existingColumns } from "../../runtime/clickhouse/ensure-sink-table.js";
import type { CompiledSink, CompiledStream } from "../../runtime/pipeline/compiled.js";
import { startClickHouse, type ClickHouseServer } from "../../testbed/clickhouse.js";
import { waitFor } from "../../testbed/poll.js";
import { readToEnd } from "../../testbed/read-topic.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";
import { createTopicsAndWait } from "../../runtime/kafka/ensure-topic.js";

const env = testbedEnv();
const fastBackoff = { initialMs: 100, maxMs: 1000 };

describe("the ClickHouse sink on the real testbed", () => {
  let admin: KafkaAdmin;
  let producer: KafkaProducer;
  const cleanups: (() => Promise<void>)[] = [];
  // Topics go at the end: a client that knew a deleted topic keeps failing metadata refreshes.
  const created: CompiledSink[] = [];
  beforeAll(async () => {
    admin = kafkaClient(env.kafkaBrokers, "sink-test-admin").admin();
    await admin.connect();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });
  afterAll(async () => {
    for (const sink of created) await deleteTopics(admin, sink);
    await admin.disconnect();
  });

  async function setup(o: Parameters<typeof testSink>[0] = {}, clickhouseUrl = env.clickhouseUrl): Promise<CompiledSink> {
    const sink = testSink(o);
    await createTopics(admin, sink);
    created.push(sink);
    producer = kafkaClient(env.kafkaBrokers, "sink-test-producer").producer();
    await producer.connect();
    cleanups.push(() => dropDatabase(clickhouseUrl, sink), () => producer.disconnect());
    return sink;
  }
  async function run(sink: CompiledSink, clickhouseUrl = env.clickhouseUrl) {
    const registry = createRegistry(false);
    const handle = await startSink({ sink, kafkaBrokers: env.kafkaBrokers, clickhouseUrl, registry, logger: process.env.SINK_TEST_LOGS ? undefined : silentLogger, backoff: fastBackoff });
    cleanups.push(() => handle.stop());
    return { handle, registry };
  }
  const highWatermarkTotal = async (sink: CompiledSink) =>
    (await admin.fetchTopicOffsets(sink.stream.topic)).reduce((n, p) => n + Number(p.high), 0);
  const allCommitted = (sink: CompiledSink) =>
    waitFor("all offsets committed", async () => ((await committedTotal(admin, sink)) === (await highWatermarkTotal(sink)) ? true : undefined), { timeoutMs: 30_000 });

  it("ensureSinkTable creates the table once, then only adds columns for new optional fields", async () => {
    const sink = testSink();
    cleanups.push(() => dropDatabase(env.clickhouseUrl, sink));
    const ch = createClient({ url: env.clickhouseUrl });
    cleanups.push(() => ch.close());
    const features = await detectServerFeatures(ch);
    console.log("[sink] ClickHouse", features);
    expect(await ensureSinkTable(ch, sink, features)).toEqual({ created: true, addedColumns: [] });
    expect(await ensureSinkTable(ch, sink, features)).toEqual({ created: false, addedColumns: [] });
    const v2 = { ...sink, stream: { ...sink.stream, schema: { ...sink.stream.schema, version: 2, fields: [...sink.stream.schema.fields, { name: "coupon", type: "string" as const, required: false }] } } };
    expect(await ensureSinkTable(ch, v2, features)).toEqual({ created: false, addedColumns: ["coupon"] });
    expect(await existingColumns(ch, sink)).toContain("coupon");
  });

  it("writes every produced record as one row, then commits every offset", async () => {
    const sink = await setup();
    await produce(producer, sink, Array.from({ length: 300 }, (_, i) => event(`id-${i}`, i)));
    const { registry } = await run(sink);
    await allCommitted(sink);
    expect(await tableCounts(env.clickhouseUrl, sink)).toEqual({ raw: 300, final: 300, distinctIds: 300 });
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/sluice_sink_rows_written_total\{sink="test\/sinkt-[0-9a-f]+"\} 300/);
    expect(metrics).toMatch(/sluice_sink_lag_messages\{sink="[^"]+"\} 0/);
    // The wait before the sink is read once per fetched batch: at least once, at most once per record.
    const fetched = Number(/sluice_sink_ingest_to_fetched_seconds_count\{sink="[^"]+"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    expect(fetched).toBeGreaterThan(0);
    expect(fetched).toBeLessThanOrEqual(300);
  });

  it("a backlog on many partitions is held within the worker's memory budget, not per-partition limits times partitions, and written once", async () => {
    // Per-partition limits alone (2 x maxRows buffered while a batch is written) would let
    // this worker hold the whole backlog: 6 partitions x ~10k records, waiting 10 s for maxDelay.
    const sink = await setup({ partitions: 6, maxRows: 50_000, maxDelayMs: 10_000 });
    const n = 60_000;
    await produce(producer, sink, Array.from({ length: n }, (_, i) => event(`mem-${i}`, i)));
    const budget = 1 << 20;
    const registry = createRegistry(false);
    const handle = await startSink({ sink, kafkaBrokers: env.kafkaBrokers, clickhouseUrl: env.clickhouseUrl, registry, logger: silentLogger, backoff: fastBackoff, memoryBudgetBytes: budget });
    cleanups.push(() => handle.stop());
    const held = registry.getSingleMetric("sluice_sink_held_bytes")!;
    let peak = 0;
    const sampler = setInterval(() => void held.get().then((m) => (peak = Math.max(peak, ...m.values.map((v) => v.value)))), 10);
    try {
      await waitFor("all offsets committed", async () => ((await committedTotal(admin, sink)) === (await highWatermarkTotal(sink)) ? true : undefined), { timeoutMs: 120_000 });
    } finally {
      clearInterval(sampler);
    }
    expect(await tableCounts(env.clickhouseUrl, sink)).toEqual({ raw: n, final: n, distinctIds: n });
    // Each partition may overshoot by what one fetch delivered (at most 1,000 records) before it pauses.
    const recordCost = 1024 + JSON.stringify(event("mem-00000", 0)).length;
    const bound = budget + 6 * 1_000 * recordCost;
    console.log(`[sink] backlog of ${n}: peak held ${(peak / 2 ** 20).toFixed(1)} MiB, budget ${(budget / 2 ** 20).toFixed(1)} MiB, bound ${(bound / 2 ** 20).toFixed(1)} MiB`);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(bound);
    // Holding to the budget meant pausing partitions, and each pause is counted.
    const pauses = Number(/sluice_sink_fetch_pauses_total\{[^}]*\} (\d+)/.exec(await registry.metrics())?.[1] ?? 0);
    expect(pauses).toBeGreaterThan(0);
  }, 180_000);

  it("a partition paused under the memory budget and revoked while paused is read again when it comes back", async () => {
    // ClickHouse goes away, so the sink fills its budget and pauses the partitions it
    // fetched. A second member joins (taking half of them while paused) and leaves (giving
    // them back). The client keeps a pause across the revocation, so without a resume on
    // re-assignment those partitions would never be read again.
    const dir = mkdtempSync(join(tmpdir(), "sluice-sink-pause-"));
    const ch: ClickHouseServer = await startClickHouse({ dir, logDir: dir });
    cleanups.push(() => ch.servers[0]!.stop());
    const sink = await setup({ partitions: 6, maxRows: 50_000, maxDelayMs: 100 }, ch.url);
    const budget = 64 * 1024;
    const registry = createRegistry(false);
    const handle = await startSink({ sink, kafkaBrokers: env.kafkaBrokers, clickhouseUrl: ch.url, registry, logger: process.env.SINK_TEST_LOGS ? undefined : silentLogger, backoff: fastBackoff, memoryBudgetBytes: budget });
    cleanups.push(() => handle.stop());
    const spread = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ ...event(`${prefix}-${i}`, i), tenant_id: `tenant-${i % 48}` }));
    await produce(producer, sink, spread("warm", 200));
    await allCommitted(sink);

    await ch.servers[0]!.stop();
    const n = 6_000;
    await produce(producer, sink, spread("held", n));
    const held = async () => Number(/sluice_sink_held_bytes\{[^}]*\} (\d+)/.exec(await registry.metrics())?.[1] ?? 0);
    await waitFor("the sink over its budget", async () => ((await held()) >= budget ? true : undefined), { timeoutMs: 60_000 });

    // A bare member of the group: it fetches what it is given and commits nothing.
    const member = kafkaClient(env.kafkaBrokers, "sink-test-member").consumer({ groupId: sink.groupId });
    await member.connect();
    let memberPartitions = new Set<number>();
    await member.subscribe({ topics: [sink.stream.topic] });
    await member.run({ eachBatch: async ({ batch }) => void memberPartitions.add(batch.partition) });
    try {
      await waitFor("the second member fetching", async () => (memberPartitions.size > 0 ? true : undefined), { timeoutMs: 90_000 });
    } finally {
      await member.disconnect();
    }
    await ch.restart();
    await waitFor("all offsets committed", async () => ((await committedTotal(admin, sink)) === (await highWatermarkTotal(sink)) ? true : undefined), { timeoutMs: 90_000 });
    const counts = await tableCounts(ch.url, sink);
    expect({ final: counts.final, distinctIds: counts.distinctIds }).toEqual({ final: n + 200, distinctIds: n + 200 });
    await expect(Promise.race([handle.failed, Promise.resolve("alive")])).resolves.toBe("alive");
  }, 240_000);

  it("when the input repeats event ids, it keeps one row per id", async () => {
    const sink = await setup({ maxRows: 1000, maxDelayMs: 300 });
    const unique = Array.from({ length: 100 }, (_, i) => event(`dup-${i}`, i));
    await produce(producer, sink, [...unique, ...unique.slice(0, 50)]);
    await run(sink);
    await allCommitted(sink);
    const counts = await tableCounts(env.clickhouseUrl, sink);
    console.log("[sink] duplicates in the input:", counts);
    expect(counts.final).toBe(100);
    expect(counts.distinctIds).toBe(100);
  });

  it("sends poison to the dead-letter topic with error headers, and writes every valid record", async () => {
    const sink = await setup();
    const poison = ["{not json", JSON.stringify({ ...event("p1"), amount: "lots" }), JSON.stringify({ tenant_id: "t" }), "[1,2]", JSON.stringify({ ...event("p2"), event_time: "yesterday" })];
    const valid = Array.from({ length: 200 }, (_, i) => event(`ok-${i}`, i));
    await produce(producer, sink, [...valid.slice(0, 100), ...poison, ...valid.slice(100), ...poison]);
    const { registry } = await run(sink);
    await allCommitted(sink);
    expect((await tableCounts(env.clickhouseUrl, sink)).final).toBe(200);
    const dead = await readAll(sink.stream.deadLetterTopic, 10);
    expect(dead).toHaveLength(10);
    const h = (m: (typeof dead)[number], k: string) => m.headers?.[k]?.toString();
    expect(dead.map((m) => m.value?.toString()).sort()).toEqual([...poison, ...poison].sort());
    const typeError = dead.find((m) => m.value?.toString().includes("lots"))!;
    expect(h(typeError, "sluice-error")).toMatch(/amount/);
    expect(h(typeError, "sluice-error-field")).toBe("amount");
    expect(h(typeError, "sluice-source-topic")).toBe(sink.stream.topic);
    expect(h(typeError, "sluice-sink")).toBe(`test/${sink.name}`);
    expect(Number(h(typeError, "sluice-source-offset"))).toBeGreaterThanOrEqual(0);
    expect(h(typeError, "sluice-source-partition")).toMatch(/^\d+$/);
    expect(await registry.metrics()).toMatch(/sluice_sink_dead_letters_total\{sink="[^"]+"\} 10/);
  });

  it("when the sink is SIGKILLed after sending dead letters but before their transaction commits, the replay leaves each poison record in the dead-letter topic once", async () => {
    const sink = await setup({ partitions: 1, maxRows: 20, maxDelayMs: 100 });
    const poison = Array.from({ length: 6 }, (_, i) => `{broken ${i}`);
    const valid = Array.from({ length: 60 }, (_, i) => event(`txn-${i}`, i));
    await produce(producer, sink, [...valid.slice(0, 20), poison[0]!, poison[1]!, ...valid.slice(20, 40), poison[2]!, poison[3]!, ...valid.slice(40), poison[4]!, poison[5]!]);
    const first = spawnSink(sink, "kafka.transaction-before-commit=1");
    // It dies at its first poison batch, dead letters sent and not committed (or before it
    // was ready, if that batch came first): either way through the failpoint.
    const signal = await first.then(
      (c) => {
        cleanups.push(() => killed(c));
        return new Promise<string | null>((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.signalCode) : c.once("exit", (_code, sig) => r(sig))));
      },
      (err: Error) => (/failpoint kafka.transaction-before-commit hit/.test(err.message) ? "SIGKILL" : Promise.reject(err)),
    );
    expect(signal).toBe("SIGKILL");
    const second = await spawnSink(sink);
    cleanups.push(() => killed(second, "SIGTERM"));
    await allCommitted(sink);
    const dead = await readAll(sink.stream.deadLetterTopic, poison.length);
    expect(dead.map((m) => m.value?.toString()).sort()).toEqual([...poison].sort());
    expect((await tableCounts(env.clickhouseUrl, sink)).final).toBe(valid.length);
  });

  it("while a second member joins and partitions move, each poison record is dead-lettered once and the counters add up exactly", async () => {
    const sink = await setup({ partitions: 6, maxRows: 10, maxDelayMs: 50 });
    const rounds = 30;
    const first = await run(sink);
    let second: Awaited<ReturnType<typeof run>> | undefined;
    for (let r = 0; r < rounds; r++) {
      // Each round: valid records and one poison record per partition's worth of keys.
      await produce(producer, sink, [...Array.from({ length: 12 }, (_, i) => event(`rb-${r}-${i}`, i)), `{poison ${r}`]);
      if (r === 10) second = await run(sink); // the rebalance, with batches in flight
    }
    await allCommitted(sink);
    const dead = await readAll(sink.stream.deadLetterTopic, rounds);
    expect(dead.map((m) => m.value?.toString()).sort()).toEqual(Array.from({ length: rounds }, (_, r) => `{poison ${r}`).sort());
    const counted = async (reg: Awaited<ReturnType<typeof run>>["registry"]) => Number(/sluice_sink_dead_letters_total\{[^}]*\} (\d+)/.exec(await reg.metrics())?.[1] ?? 0);
    expect((await counted(first.registry)) + (await counted(second!.registry))).toBe(rounds);
    expect((await tableCounts(env.clickhouseUrl, sink)).final).toBe(rounds * 12);
  });

  it("when the sink process is SIGKILLed mid-stream and restarted, nothing is lost or duplicated", async () => {
    const sink = await setup({ maxRows: 40, maxDelayMs: 100 });
    const total = 3000;
    const events = Array.from({ length: total }, (_, i) => event(`crash-${i}`, i));
    await produce(producer, sink, events.slice(0, 1500));
    const first = await spawnSink(sink);
    cleanups.push(() => killed(first));
    await waitFor("some rows written", async () => ((await tableCounts(env.clickhouseUrl, sink)).raw > 100 ? true : undefined));
    const produceRest = produce(producer, sink, events.slice(1500));
    first.kill("SIGKILL");
    await Promise.all([produceRest, killed(first)]);
    const atKill = await tableCounts(env.clickhouseUrl, sink);
    const second = await spawnSink(sink);
    cleanups.push(() => killed(second, "SIGTERM"));
    await allCommitted(sink);
    const counts = await tableCounts(env.clickhouseUrl, sink);
    console.log("[sink] crash test: rows at kill", atKill, "after restart", counts);
    expect(atKill.final).toBeLessThan(total);
    expect(counts.final).toBe(total);
    expect(counts.distinctIds).toBe(total);
  });

  it("partial batches of several partitions go to ClickHouse in one insert, not one insert per partition", async () => {
    const sink = await setup({ partitions: 6, maxRows: 1000, maxDelayMs: 1000 });
    await produce(producer, sink, Array.from({ length: 60 }, (_, i) => event(`few-${i}`, i)));
    const nonEmpty = (await admin.fetchTopicOffsets(sink.stream.topic)).filter((p) => Number(p.high) > 0).length;
    expect(nonEmpty).toBeGreaterThanOrEqual(3);
    const { registry } = await run(sink);
    await allCommitted(sink);
    expect(await tableCounts(env.clickhouseUrl, sink)).toEqual({ raw: 60, final: 60, distinctIds: 60 });
    const inserts = Number(/sluice_sink_insert_seconds_count\{[^}]+\} (\d+)/.exec(await registry.metrics())?.[1]);
    console.log(`[sink] ${nonEmpty} partitions with records, written in ${inserts} insert(s)`);
    // One per partition before batches were combined; the fetches may split them in two.
    expect(inserts).toBeLessThanOrEqual(2);
    expect(inserts).toBeLessThan(nonEmpty);
  });

  it("when the sink is SIGKILLed after a combined insert, two new members replay its partitions apart and no row is written twice", async () => {
    const sink = await setup({ partitions: 3, maxRows: 5000, maxDelayMs: 100 });
    const total = 2400;
    const events = Array.from({ length: total }, (_, i) => event(`combined-${i}`, i));
    await produce(producer, sink, events.slice(0, 1200));
    // Dies right after its first insert, before committing: the intents are all that is committed.
    const first = spawnSink(sink, "sink.after-insert=1");
    const signal = await first.then(
      (c) => {
        cleanups.push(() => killed(c));
        return new Promise<string | null>((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.signalCode) : c.once("exit", (_code, sig) => r(sig))));
      },
      (err: Error) => (/failpoint sink.after-insert hit/.test(err.message) ? "SIGKILL" : Promise.reject(err)),
    );
    expect(signal).toBe("SIGKILL");
    const [committed] = await admin.fetchOffsets({ groupId: sink.groupId, topics: [sink.stream.topic] });
    const groups = (committed?.partitions ?? []).map((p) => decodeIntent(p.metadata, Number(p.offset))?.group).filter((g) => g !== undefined);
    // The insert it died after combined several partitions' batches, named by one group.
    expect(groups.length).toBeGreaterThanOrEqual(2);
    expect(new Set(groups).size).toBe(1);
    const atKill = await tableCounts(env.clickhouseUrl, sink);
    expect(atKill.raw).toBeGreaterThan(0);
    const second = await spawnSink(sink);
    cleanups.push(() => killed(second, "SIGTERM"));
    const third = await spawnSink(sink);
    cleanups.push(() => killed(third, "SIGTERM"));
    await produce(producer, sink, events.slice(1200));
    await allCommitted(sink);
    const counts = await tableCounts(env.clickhouseUrl, sink);
    console.log("[sink] combined insert crash: rows at kill", atKill, "after the replays", counts);
    // raw, not only FINAL: the replays inserted only what the table lacked.
    expect(counts).toEqual({ raw: total, final: total, distinctIds: total });
  });

  it("during a ClickHouse outage it commits nothing, and resumes when ClickHouse is back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-sink-ch-"));
    const ch: ClickHouseServer = await startClickHouse({ dir, logDir: dir });
    cleanups.push(() => ch.servers[0]!.stop());
    const sink = await setup({ maxRows: 50, maxDelayMs: 100 }, ch.url);
    await produce(producer, sink, Array.from({ length: 100 }, (_, i) => event(`before-${i}`, i)));
    const { registry, handle } = await run(sink, ch.url);
    await allCommitted(sink);
    const committedBefore = await committedTotal(admin, sink);

    await ch.servers[0]!.stop();
    await produce(producer, sink, Array.from({ length: 200 }, (_, i) => event(`during-${i}`, i)));
    await waitFor("inserts failing and retried", async () => (/sluice_sink_insert_retries_total\{[^}]+\} [3-9]\d*/.test(await registry.metrics()) ? true : undefined));
    expect(await committedTotal(admin, sink)).toBe(committedBefore);

    await ch.restart();
    await allCommitted(sink);
    const counts = await tableCounts(ch.url, sink);
    console.log("[sink] outage test:", counts);
    expect(counts.final).toBe(300);
    expect(counts.distinctIds).toBe(300);
    await expect(Promise.race([handle.failed, Promise.resolve("alive")])).resolves.toBe("alive");
  });

  it("when retention deleted records it never read, it fails naming the partition and the gap", async () => {
    const sink = await setup({ partitions: 2, maxRows: 10, maxDelayMs: 100 });
    await produce(producer, sink, Array.from({ length: 20 }, (_, i) => event(`gap-${i}`, i)));
    const first = await run(sink);
    await allCommitted(sink);
    await first.handle.stop();
    const [committed] = await admin.fetchOffsets({ groupId: sink.groupId, topics: [sink.stream.topic] });
    const p0 = Number(committed!.partitions.find((p) => p.partition === 0)!.offset);
    await producer.send({ topic: sink.stream.topic, messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: JSON.stringify(event(`late-${i}`, i)) })) });
    // What retention does to a log nobody read in time: the low watermark moves past the commit.
    await admin.deleteTopicRecords({ topic: sink.stream.topic, partitions: [{ partition: 0, offset: String(p0 + 5) }] });
    const second = await run(sink);
    const err = await second.handle.failed.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetentionGapError);
    expect((err as Error).message).toMatch(new RegExp(`partition 0 committed ${p0} < low watermark ${p0 + 5} \\(5 records lost`));
    expect((err as Error).message).not.toMatch(/partition 1/);
    expect(Number((await admin.fetchOffsets({ groupId: sink.groupId, topics: [sink.stream.topic] }))[0]!.partitions.find((p) => p.partition === 0)!.offset)).toBe(p0);
  });

  /** Every record of `topic` as read_committed readers see it, once `expected` have arrived. */
  async function readAll(topic: string, expected: number) {
    const kafka = kafkaClient(env.kafkaBrokers, "sink-test-dlq");
    // The sink has committed everything it read: its transactions are done.
    const seen = await readToEnd(kafka, topic);
    expect(seen).toHaveLength(expected);
    return seen;
  }
});

function spawnSink(sink: CompiledSink, failpoints = ""): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../fixtures/run-sink.ts"), JSON.stringify(sink)], {
    // The broker's minimum session timeout: a SIGKILLed member's partitions move after it.
    env: { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(","), CLICKHOUSE_URL: env.clickhouseUrl, SLUICE_SESSION_TIMEOUT_MS: "6000", SLUICE_FAILPOINTS: failpoints },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => d.toString().includes('"ready":true') && resolve(child));
    child.on("exit", (code) => reject(new Error(`run-sink exited with ${code}: ${stderr.slice(-2000)}`)));
  });
}

function killed(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

// ---- helpers: a compiled sink with random names, a producer, table reads ----

export function testSink(o: { partitions?: number; maxRows?: number; maxDelayMs?: number } = {}): CompiledSink {
  const name = randomName("sinkt");
  const ident = name.replace(/-/g, "_");
  const stream: CompiledStream = {
    namespace: "test",
    name,
    topic: `${name}.events`,
    deadLetterTopic: `${name}.dlq`,
    partitions: o.partitions ?? 3,
    replicationFactor: 1,
    minInSyncReplicas: 1,
    retentionMs: 3_600_000,
    compression: "none",
    schema: {
      version: 1,
      strict: false,
      fields: [
        { name: "event_id", type: "string", required: true },
        { name: "tenant_id", type: "string", required: true },
        { name: "event_time", type: "timestamp", required: true },
        { name: "amount", type: "int32", required: false },
        { name: "flag", type: "boolean", required: false },
      ],
    },
    keys: { eventId: "event_id", eventTime: "event_time", tenant: "tenant_id", partitionBy: "tenant_id" },
    ingest: { enabled: true, maxBodyBytes: 1 << 20, maxEventBytes: 65_536, maxEventsPerRequest: 1000 },
    deletionPolicy: "Delete",
  };
  return {
    namespace: "test",
    name,
    stream,
    groupId: `sluice.test.sink.${name}`,
    database: `db_${ident}`,
    table: "events",
    orderBy: ["tenant_id", "event_time", "event_id"],
    partitionBy: "toYYYYMMDD(event_time)",
    retentionMs: 30 * 86_400_000,
    batching: { maxRows: o.maxRows ?? 50, maxBytes: 1 << 20, maxDelayMs: o.maxDelayMs ?? 200 },
    scaling: { minReplicas: 1, maxReplicas: 3, targetLagSeconds: 5, scaleDownStabilizationSeconds: 120 },
  };
}

export async function createTopics(admin: KafkaAdmin, sink: CompiledSink): Promise<void> {
  await createTopicsAndWait(admin, [
    { topic: sink.stream.topic, numPartitions: sink.stream.partitions, replicationFactor: 1 },
    { topic: sink.stream.deadLetterTopic, numPartitions: 1, replicationFactor: 1 },
  ]);
}

export async function deleteTopics(admin: KafkaAdmin, sink: CompiledSink): Promise<void> {
  await admin.deleteTopics({ topics: [sink.stream.topic, sink.stream.deadLetterTopic] }).catch(() => {});
}

export function event(id: string, i = 0): Record<string, unknown> {
  return { event_id: id, tenant_id: `tenant-${i % 5}`, event_time: new Date(Date.now() - (i % 1000)).toISOString(), amount: i, flag: i % 2 === 0 };
}

/** Produces values the way the collector does: key = partition key, ingest-time header. */
export async function produce(producer: KafkaProducer, sink: CompiledSink, values: (Record<string, unknown> | string)[]): Promise<void> {
  for (let i = 0; i < values.length; i += 500) {
    await producer.send({
      topic: sink.stream.topic,
      messages: values.slice(i, i + 500).map((v, j) => ({
        key: typeof v === "string" ? `raw-${i + j}` : String(v.tenant_id),
        value: typeof v === "string" ? v : JSON.stringify(v),
        headers: { "sluice-ingest-time": String(Date.now()), "sluice-schema-version": "1", "sluice-tenant": "t" },
      })),
    });
  }
}

export interface TableCounts {
  raw: number;
  final: number;
  distinctIds: number;
}

/** The documented read (FINAL, uniqExact) beside the raw count that shows whether dedupe ran. */
export async function tableCounts(clickhouseUrl: string, sink: CompiledSink): Promise<TableCounts> {
  const ch = createClient({ url: clickhouseUrl });
  try {
    const t = `\`${sink.database}\`.\`${sink.table}\``;
    const q = async (query: string) => ((await (await ch.query({ query, format: "JSONEachRow" })).json()) as { n: string }[])[0]!.n;
    return {
      raw: Number(await q(`SELECT count() AS n FROM ${t}`)),
      final: Number(await q(`SELECT count() AS n FROM ${t} FINAL`)),
      distinctIds: Number(await q(`SELECT uniqExact(event_id) AS n FROM ${t}`)),
    };
  } finally {
    await ch.close();
  }
}

export async function dropDatabase(clickhouseUrl: string, sink: CompiledSink): Promise<void> {
  const ch = createClient({ url: clickhouseUrl });
  await ch.command({ query: `DROP DATABASE IF EXISTS \`${sink.database}\`` }).catch(() => {});
  await ch.close();
}

/** Committed offsets of the sink's group, summed over partitions (-1 = none counts as 0). */
export async function committedTotal(admin: KafkaAdmin, sink: CompiledSink): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId: sink.groupId, topics: [sink.stream.topic] });
  return (t?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}
