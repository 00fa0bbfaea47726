/**
 * The aggregation worker against the real testbed: Kafka (KRaft) and Debian's ClickHouse
 * 18.16, random topic, group and database names. Results are read the documented way
 * (FINAL, is_deleted = 0) and compared with a computation done here, in the test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createClient } from "@clickhouse/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { compileAggregation } from "../../runtime/aggregate/compile.js";
import type { CompiledAggregationJob } from "../../runtime/aggregation-worker/job.js";
import { startAggregation } from "../../runtime/aggregation-worker/start-aggregation.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import type { KafkaAdmin, KafkaProducer } from "../../runtime/kafka/port.js";
import { jsonLogger, silentLogger } from "../../runtime/log.js";
import { createRegistry } from "../../runtime/metrics/registry.js";
import type { CompiledStream } from "../../runtime/pipeline/compiled.js";
import { waitFor } from "../../testbed/poll.js";
import { readToEnd } from "../../testbed/read-topic.js";
import { readPosition } from "../../operator/autoscale/observe-lag.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";
import { createTopicsAndWait } from "../../runtime/kafka/ensure-topic.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { startClickHouse } from "../../testbed/clickhouse.js";

const env = testbedEnv();
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const MINUTE = 60_000;
/** The sliding windows' slide (their size is a minute). */
const SLIDE = 20_000;
/** Far past every test event: closes all their windows (sentinel windows stay open, and are not queried). */
const SENTINEL_TIME = T0 + 86_400_000;

interface Ev { event_id: string; campaign: string; event_time: number; cost: number; user: string }
interface Result { ws: number; campaign: string; n: number; spend: number; users: number }

describe("the aggregation worker on the real testbed", () => {
  let admin: KafkaAdmin;
  let producer: KafkaProducer;
  const cleanups: (() => Promise<void>)[] = [];
  const jobs: CompiledAggregationJob[] = [];
  beforeAll(async () => {
    admin = kafkaClient(env.kafkaBrokers, "aggregation-test-admin").admin();
    producer = kafkaClient(env.kafkaBrokers, "aggregation-test-producer").producer();
    await Promise.all([admin.connect(), producer.connect()]);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });
  afterAll(async () => {
    for (const j of jobs) await admin.deleteTopics({ topics: [j.stream.topic, j.stream.deadLetterTopic] }).catch(() => {});
    await Promise.all([producer.disconnect(), admin.disconnect()]);
  });

  async function setup(o: Parameters<typeof testJob>[0]): Promise<CompiledAggregationJob> {
    const job = testJob(o);
    await createTopicsAndWait(admin, [
      { topic: job.stream.topic, numPartitions: job.stream.partitions, replicationFactor: 1 },
      { topic: job.stream.deadLetterTopic, numPartitions: 1, replicationFactor: 1 },
    ]);
    jobs.push(job);
    cleanups.push(() => dropDatabase(job));
    return job;
  }
  async function run(job: CompiledAggregationJob, tickMs = 200) {
    const registry = createRegistry(false);
    const handle = await startAggregation({ aggregation: job, kafkaBrokers: env.kafkaBrokers, clickhouseUrl: env.clickhouseUrl, registry, logger: process.env.AGG_TEST_LOGS ? undefined : silentLogger, tickMs, backoff: { initialMs: 100, maxMs: 1000 } });
    cleanups.push(() => handle.stop());
    return { handle, registry };
  }
  const produce = (job: CompiledAggregationJob, events: (Ev | string)[], partition?: (e: Ev) => number) =>
    producer.send({
      topic: job.stream.topic,
      messages: events.map((e) =>
        typeof e === "string"
          ? { key: "poison", value: e, partition: 0 }
          : { key: e.campaign, value: JSON.stringify({ ...e, event_time: new Date(e.event_time).toISOString() }), ...(partition ? { partition: partition(e) } : {}) },
      ),
    });
  const sentinels = (job: CompiledAggregationJob) =>
    produce(job, Array.from({ length: job.stream.partitions }, (_, p) => ev(`sentinel-${p}`, `zz-${p}`, SENTINEL_TIME, 0, "s")), (e) => Number(e.campaign.slice(3)));

  it("computes final windows equal to an in-test computation, and reports exactly the events beyond lateness", async () => {
    const job = await setup({ partitions: 1, maxOutOfOrderness: "10s", allowedLateness: "30s" });
    const events: Ev[] = [];
    for (let i = 0; i < 240; i++) {
      // Every 7th event arrives up to 20 s behind: out of order, within lateness.
      const jitter = i % 7 === 3 ? -((i * 7919) % 20_000) : 0;
      events.push(ev(`e-${i}`, `c${i % 3}`, T0 + i * 2_000 + jitter, i, `u${i % 7}`));
      // Four events five minutes behind: beyond maxOutOfOrderness + allowedLateness.
      if (i % 40 === 39 && i > 100) events.push(ev(`late-${i}`, `c${i % 3}`, T0 + i * 2_000 - 5 * MINUTE, 1000 + i, "late-user"));
    }
    const beyondLateness = events.filter((e) => e.event_id.startsWith("late-")).length;
    expect(beyondLateness).toBe(4);
    // Redelivered copies of a few events change nothing; poison goes to the dead-letter topic.
    // (copies right after their originals: their window is still open, so they are duplicates, not late)
    const input: (Ev | string)[] = [...events.slice(0, 100), ...events.slice(95, 98), "{not json", ...events.slice(100)];
    const expected = simulate(events, 10_000, 30_000);
    expect(expected.late).toBe(beyondLateness);
    await produce(job, input);
    const { registry } = await run(job);
    await sentinels(job);
    const rows = await waitFor("final results", async () => {
      const r = await results(job);
      return JSON.stringify(r) === JSON.stringify(expected.results) ? r : undefined;
    }, { timeoutMs: 45_000 }).catch(async (err: Error) => {
      console.log("[aggregation] got", JSON.stringify(await results(job)).slice(0, 2000));
      throw err;
    });
    expect(rows).toEqual(expected.results);
    expect(await lateCount(job)).toBe(beyondLateness);
    // Counters move once a flush's commit is done, a moment after its rows are readable.
    const metrics = await waitFor("the flushes' counters", async () => {
      const m = await registry.metrics();
      return /sluice_aggregation_dead_letters_total\{aggregation="[^"]+"\} 1/.test(m) && /sluice_aggregation_late_events_total\{aggregation="[^"]+"\} 4/.test(m) ? m : undefined;
    }, { timeoutMs: 30_000 }).catch(async (err: Error) => {
      console.log("[aggregation] metrics", (await registry.metrics()).split("\n").filter((l) => l.startsWith("sluice_aggregation_")).join("\n"));
      throw err;
    });
    expect(metrics).toMatch(/sluice_aggregation_late_events_total\{aggregation="[^"]+"\} 4/);
    expect(metrics).toMatch(/sluice_aggregation_duplicates_total\{aggregation="[^"]+"\} 3/);
    expect(metrics).toMatch(/sluice_aggregation_dead_letters_total\{aggregation="[^"]+"\} 1/);
    expect(metrics).toMatch(/sluice_aggregation_rows_emitted_total\{aggregation="[^"]+",firing="on_time"\} \d+/);
  });

  // Sliding windows are kept in slices (runtime/aggregate/slices.ts): a replay must rebuild them too.
  it.each(["tumbling", "sliding"] as const)("(%s) when the worker is SIGKILLed mid-window twice and restarted, the final results equal a run without crashes", async (window) => {
    const o = { partitions: 3, maxOutOfOrderness: "10s", allowedLateness: "2m", window };
    const [calm, crashy] = [await setup(o), await setup(o)];
    const events: Ev[] = [];
    for (let i = 0; i < 600; i++) {
      const jitter = i % 5 === 2 ? -((i * 7919) % 20_000) : 0;
      events.push(ev(`e-${i}`, `c${i % 6}`, T0 + i * 3_000 + jitter, i, `u${i % 11}`));
    }
    const expected = simulate(events, 10_000, 120_000, window === "sliding" ? SLIDE : MINUTE);
    expect(expected.late).toBe(0);
    const chunks = [events.slice(0, 200), events.slice(200, 400), events.slice(400)];

    // The reference: the same input, one uninterrupted worker.
    for (const c of chunks) await produce(calm, c);
    await sentinels(calm);
    await run(calm);

    let committed = 0;
    for (const chunk of chunks.slice(0, 2)) {
      await produce(crashy, chunk);
      const child = await spawnWorker(crashy);
      cleanups.push(() => killed(child));
      const before = committed;
      committed = await waitFor("the worker commits progress", async () => {
        const n = await committedTotal(admin, crashy);
        return n > before ? n : undefined;
      }, { timeoutMs: 30_000, intervalMs: 50 });
      await killed(child);
      console.log("[aggregation] SIGKILLed with committed offsets summing to", committed, "rows so far", (await results(crashy)).length);
    }
    await produce(crashy, chunks[2]!);
    await sentinels(crashy);
    const last = await spawnWorker(crashy);
    cleanups.push(() => killed(last, "SIGTERM"));

    const done = (job: CompiledAggregationJob) =>
      waitFor(`final results of ${job.name}`, async () => {
        const r = await results(job, true);
        return r.length === expected.results.length && r.every((x) => x.version % 2 === 1) ? r : undefined;
      }, { timeoutMs: 90_000 }).catch(async (err: Error) => {
        console.log(`[aggregation] ${job.name} has`, (await results(job, true)).length, "of", expected.results.length, "final rows");
        throw err;
      });
    const [calmRows, crashRows] = [await done(calm), await done(crashy)];
    expect(crashRows).toEqual(calmRows);
    expect(crashRows.map(({ version: _v, ...r }) => r)).toEqual(expected.results);
    expect(await lateCount(crashy)).toBe(0);
  }, 180_000);

  it("when the worker is SIGKILLed after sending dead letters but before their transaction commits, each poison record is dead-lettered once and the checkpoint still goes with the commit", async () => {
    const job = await setup({ partitions: 1, maxOutOfOrderness: "10s", allowedLateness: "30s" });
    const events = Array.from({ length: 120 }, (_, i) => ev(`d-${i}`, `c${i % 3}`, T0 + i * 2_000, i, `u${i % 5}`));
    const poison = ["{broken 0", "{broken 1", "{broken 2"];
    await produce(job, [...events.slice(0, 40), poison[0]!, ...events.slice(40, 80), poison[1]!, ...events.slice(80), poison[2]!]);
    await sentinels(job);
    const signal = await spawnWorker(job, "kafka.transaction-before-commit=1").then(
      (c) => {
        cleanups.push(() => killed(c));
        return new Promise<string | null>((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.signalCode) : c.once("exit", (_code, sig) => r(sig))));
      },
      (err: Error) => (/failpoint kafka.transaction-before-commit hit/.test(err.message) ? "SIGKILL" : Promise.reject(err)),
    );
    expect(signal).toBe("SIGKILL");
    await run(job); // the restarted worker
    const expected = simulate(events, 10_000, 30_000);
    await waitFor("final results", async () => (JSON.stringify(await results(job)) === JSON.stringify(expected.results) ? true : undefined), { timeoutMs: 60_000 });
    // Rows are written before the transaction commits: wait until the checkpoint says every
    // record was read (its "n", committed with the dead letters), so no transaction is
    // still open or retrying when the topic is read.
    const end = async () => (await admin.fetchTopicOffsets(job.stream.topic)).reduce((n, p) => n + Number(p.high), 0);
    const readTotal = async () => (await admin.fetchOffsets({ groupId: job.groupId, topics: [job.stream.topic] }))[0]!.partitions.reduce((n, p) => n + readPosition(Number(p.offset), p.metadata), 0);
    await waitFor("every record read and committed", async () => ((await readTotal()) === (await end()) ? true : undefined), { timeoutMs: 90_000 });
    const dead = await readToEnd(kafkaClient(env.kafkaBrokers, "agg-test-dlq"), job.stream.deadLetterTopic);
    expect(dead.map((m) => m.value?.toString()).sort()).toEqual(poison);
    // The transaction committed the offsets with the checkpoint as their metadata.
    const [c] = await admin.fetchOffsets({ groupId: job.groupId, topics: [job.stream.topic] });
    expect(c!.partitions[0]!.metadata).toMatch(/^\{"v":2,/);
  }, 180_000);

  it("partitions paused while a write hangs and revoked while paused are read again when they come back", async () => {
    // ClickHouse goes away while a flush writes closed windows; late rows pile up past the
    // pending limit, so the worker pauses fetching. A second member joins and leaves: the
    // eager rebalance hands every partition back to a new, unpaused session while the client
    // still holds the old pause. Without a resume there, nothing would be read again.
    const dir = mkdtempSync(join(tmpdir(), "sluice-agg-pause-"));
    const ch = await startClickHouse({ dir, logDir: dir });
    cleanups.push(() => ch.servers[0]!.stop());
    const job = await setup({ partitions: 6, maxOutOfOrderness: "10s", allowedLateness: "0s" });
    const registry = createRegistry(false);
    // The worker's sessions, what each resumed from and where each partition's reading began
    // go with a failure: this test failed once in CI with 36 of 60 windows written.
    const workerLog: string[] = [];
    const logger = process.env.AGG_TEST_LOGS ? undefined : jsonLogger("aggregation", (line) => void (line.includes("retrying") || workerLog.push(line)));
    const handle = await startAggregation({ aggregation: job, kafkaBrokers: env.kafkaBrokers, clickhouseUrl: ch.url, registry, logger, tickMs: 100, backoff: { initialMs: 100, maxMs: 1000 }, maxPendingOutputs: 10 });
    cleanups.push(() => handle.stop());
    const read = async () => Number(/sluice_aggregation_events_read_total\{[^}]*\} (\d+)/.exec(await registry.metrics())?.[1] ?? 0);

    await ch.servers[0]!.stop();
    const campaigns = Array.from({ length: 60 }, (_, c) => `c${c}`);
    const onTime = campaigns.flatMap((c) => [0, 1, 2].map((i) => ev(`${c}-${i}`, c, T0 + i * 1000, 1, `u${i}`)));
    await produce(job, onTime);
    await sentinels(job); // closes every window above: their write now hangs on ClickHouse
    const openWindows = async () => Number(/sluice_aggregation_open_windows\{[^}]*\} (\d+)/.exec(await registry.metrics())?.[1] ?? -1);
    await waitFor("the closed windows' write in flight", async () => ((await read()) >= onTime.length + job.stream.partitions && (await openWindows()) === job.stream.partitions ? true : undefined), { timeoutMs: 60_000 });
    const late = Array.from({ length: 40 }, (_, i) => ev(`late-${i}`, `c${i}`, T0 + 5000, 1, "late"));
    await produce(job, late);
    await waitFor("late rows past the pending limit while the write hangs", async () => ((await read()) >= onTime.length + job.stream.partitions + 11 ? true : undefined), { timeoutMs: 60_000 });
    // A batch waits 10 s for the write in flight before the client is paused.
    const pauses = async () => Number(/sluice_aggregation_fetch_pauses_total\{[^}]*\} (\d+)/.exec(await registry.metrics())?.[1] ?? 0);
    await waitFor("fetching paused once the write hung past the wait", async () => ((await pauses()) > 0 ? true : undefined), { timeoutMs: 60_000 });

    // A bare member of the group: it fetches what it is given and commits nothing.
    const member = kafkaClient(env.kafkaBrokers, "aggregation-test-member").consumer({ groupId: job.groupId });
    await member.connect();
    const memberPartitions = new Set<number>();
    await member.subscribe({ topics: [job.stream.topic] });
    await member.run({ eachBatch: async ({ batch }) => void memberPartitions.add(batch.partition) });
    try {
      await waitFor("the second member fetching", async () => (memberPartitions.size > 0 ? true : undefined), { timeoutMs: 90_000 });
    } finally {
      await member.disconnect();
    }
    await ch.restart();
    const high = async () => (await admin.fetchTopicOffsets(job.stream.topic)).reduce((n, p) => n + Number(p.high), 0);
    // Open (sentinel) windows hold the committed offset back: the checkpoint's read position counts.
    const readTotal = async () => (await admin.fetchOffsets({ groupId: job.groupId, topics: [job.stream.topic] }))[0]!.partitions.reduce((n, p) => n + readPosition(Number(p.offset), p.metadata), 0);
    await waitFor("every record read and committed", async () => ((await readTotal()) === (await high()) ? true : undefined), { timeoutMs: 120_000 });
    const expected = campaigns.map((campaign) => ({ ws: T0 / 1000, campaign, n: 3, spend: 3, users: 3 })).sort(byKey);
    await waitFor("the closed windows written", async () => ((await results(job, false, true, ch.url)).length === expected.length ? true : undefined), { timeoutMs: 30_000 }).catch(async (err: Error) => {
      const written = (await results(job, false, true, ch.url)).map((r) => r.campaign);
      throw new Error(`${err.message}: ${written.length} of ${expected.length} written, missing ${campaigns.filter((c) => !written.includes(c)).join(",")}; the worker's log:\n${workerLog.join("\n")}`);
    });
    expect(await results(job, false, true, ch.url)).toEqual(expected);
    await expect(Promise.race([handle.failed, Promise.resolve("alive")])).resolves.toBe("alive");
  }, 300_000);

  it("past its pending-rows limit while a write is in flight, a batch waits for that write and fetching is not paused", async () => {
    // Pausing and resuming the client left a partition unread at times (make bench's sliding
    // aggregation stalled so), so a write that ends within the wait must not pause it. The
    // worker's own ClickHouse stops while closed windows pile up (4x the pending limit at
    // every minute boundary), so a write is in flight and batches wait for it; the server
    // comes back well within the wait (60 s here, to keep a loaded machine out of it).
    const dir = mkdtempSync(join(tmpdir(), "sluice-agg-wait-"));
    const ch = await startClickHouse({ dir, logDir: dir });
    cleanups.push(() => ch.servers[0]!.stop());
    const job = await setup({ partitions: 3, maxOutOfOrderness: "1s", allowedLateness: "0s" });
    const registry = createRegistry(false);
    const handle = await startAggregation({ aggregation: job, kafkaBrokers: env.kafkaBrokers, clickhouseUrl: ch.url, registry, logger: process.env.AGG_TEST_LOGS ? undefined : silentLogger, tickMs: 100, backoff: { initialMs: 100, maxMs: 1000 }, maxPendingOutputs: 10, pendingWaitMs: 60_000 });
    cleanups.push(() => handle.stop());
    const metric = async (name: string) => Number(new RegExp(`${name}\\{[^}]*\\} (\\d+)`).exec(await registry.metrics())?.[1] ?? 0);
    const campaigns = Array.from({ length: 40 }, (_, c) => `c${c}`);
    const events: Ev[] = [];
    for (let m = 0; m < 30; m++) for (const c of campaigns) for (const i of [0, 1]) events.push(ev(`${c}-${m}-${i}`, c, T0 + m * MINUTE + i * 20_000, m + i, `u${i}`));

    await ch.servers[0]!.stop();
    // Half the minutes first, until a write of their closed windows is failing (in flight);
    // then the rest, which arrive while it is: however few batches the client makes of
    // the input, one comes after the write started.
    const half = events.length / 2;
    for (let i = 0; i < half; i += 500) await produce(job, events.slice(i, Math.min(i + 500, half)));
    await waitFor("a write in flight, retrying", async () => ((await metric("sluice_aggregation_write_retries_total")) > 0 ? true : undefined), { timeoutMs: 60_000 });
    for (let i = half; i < events.length; i += 500) await produce(job, events.slice(i, i + 500));
    await sentinels(job);
    await waitFor("a batch held back by the write in flight", async () => ((await metric("sluice_aggregation_write_waits_total")) > 0 ? true : undefined), { timeoutMs: 60_000 });
    await ch.restart();
    const expected = simulate(events, 1000, 0);
    expect(expected.late).toBe(0);
    await waitFor("every window written", async () => ((await results(job, false, true, ch.url)).length === expected.results.length ? true : undefined), { timeoutMs: 120_000 });
    expect(await results(job, false, true, ch.url)).toEqual(expected.results);
    console.log(`[aggregation] ${events.length} events, ${expected.results.length} windows: ${await metric("sluice_aggregation_write_waits_total")} batches waited for a write, ${await metric("sluice_aggregation_fetch_pauses_total")} pauses`);
    expect(await metric("sluice_aggregation_fetch_pauses_total")).toBe(0);
    await expect(Promise.race([handle.failed, Promise.resolve("alive")])).resolves.toBe("alive");
  }, 240_000);

  it("with earlyFirings 5s, an event's contribution is visible in the aggregate table within 10 s", async () => {
    const job = await setup({ partitions: 1, maxOutOfOrderness: "10s", allowedLateness: "0s", earlyFirings: "5s" });
    await run(job, 100);
    // Warm-up: the group has joined and the worker writes (not timed).
    await produce(job, [ev("warm", "warm", Date.now(), 1, "u")]);
    await waitFor("the warm-up row", async () => ((await results(job, false, false)).some((r) => r.campaign === "warm") ? true : undefined), { timeoutMs: 30_000 });
    const t0 = Date.now();
    await produce(job, [ev("fresh", "fresh", Date.now(), 7, "u")]);
    const row = await waitFor("the fresh event's row", async () => (await results(job, false, false)).find((r) => r.campaign === "fresh"), { timeoutMs: 10_000, intervalMs: 100 });
    const seconds = (Date.now() - t0) / 1000;
    console.log(`[aggregation] event visible after ${seconds.toFixed(1)} s`);
    expect(row).toMatchObject({ n: 1, spend: 7 });
    expect(seconds).toBeLessThan(10);
  });
});

function ev(event_id: string, campaign: string, event_time: number, cost: number, user: string): Ev {
  return { event_id, campaign, event_time, cost, user };
}

/**
 * The expected results, computed independently of the engine: one partition's watermark
 * (newest event time − maxOutOfOrderness); an event is too late when its window ended
 * allowedLateness or more before the watermark as it stood when the event arrived.
 * Duplicates are ignored by id. 1 m windows, tumbling or sliding by `slideMs`: each window
 * holds its events, with no notion of slices.
 */
function simulate(events: Ev[], oooMs: number, latenessMs: number, slideMs = MINUTE): { results: Result[]; late: number } {
  let newest = -Infinity;
  let late = 0;
  const groups = new Map<string, { ws: number; campaign: string; ids: Set<string>; spend: number; users: Set<string> }>();
  for (const e of events) {
    let counted = false;
    for (let ws = Math.floor(e.event_time / slideMs) * slideMs; ws > e.event_time - MINUTE; ws -= slideMs) {
      if (newest - oooMs >= ws + MINUTE + latenessMs) continue;
      counted = true;
      const k = `${ws}|${e.campaign}`;
      const g = groups.get(k) ?? { ws, campaign: e.campaign, ids: new Set<string>(), spend: 0, users: new Set<string>() };
      groups.set(k, g);
      if (!g.ids.has(e.event_id)) {
        g.ids.add(e.event_id);
        g.spend += e.cost;
        g.users.add(e.user);
      }
    }
    if (!counted) late++;
    newest = Math.max(newest, e.event_time);
  }
  const results = [...groups.values()].map((g) => ({ ws: g.ws / 1000, campaign: g.campaign, n: g.ids.size, spend: g.spend, users: g.users.size }));
  return { results: results.sort(byKey), late };
}

const byKey = (a: Result, b: Result) => a.ws - b.ws || a.campaign.localeCompare(b.campaign);

/** The documented read: FINAL, without retracted rows; sentinel windows left out. */
async function results(job: CompiledAggregationJob, withVersion = false, beforeSentinel = true, clickhouseUrl = env.clickhouseUrl): Promise<(Result & { version: number })[]> {
  const ch = createClient({ url: clickhouseUrl });
  try {
    // Windows that end by the sentinel's time: a sliding window holding it starts before it.
    const where = beforeSentinel ? `AND window_end <= toDateTime(${Math.floor(SENTINEL_TIME / 1000)})` : "";
    const rs = await ch.query({
      query: `SELECT toUnixTimestamp(window_start) AS ws, campaign, n, spend, users, version FROM \`${job.output.database}\`.\`${job.output.table}\` FINAL WHERE is_deleted = 0 ${where} ORDER BY ws, campaign`,
      format: "JSONEachRow",
    });
    const rows = (await rs.json()) as Record<string, string | number>[];
    return rows
      .map((r) => ({ ws: Number(r.ws), campaign: String(r.campaign), n: Number(r.n), spend: Number(r.spend), users: Number(r.users), version: Number(r.version) }))
      .map(({ version, ...r }) => (withVersion ? { ...r, version } : r) as Result & { version: number })
      .sort(byKey);
  } finally {
    await ch.close();
  }
}

async function lateCount(job: CompiledAggregationJob): Promise<number> {
  if (job.late.policy !== "Table") throw new Error("late policy is not Table");
  const ch = createClient({ url: env.clickhouseUrl });
  try {
    const rs = await ch.query({ query: `SELECT count() AS n FROM \`${job.late.database}\`.\`${job.late.table}\` FINAL`, format: "JSONEachRow" });
    return Number(((await rs.json()) as { n: string }[])[0]!.n);
  } finally {
    await ch.close();
  }
}

async function committedTotal(admin: KafkaAdmin, job: CompiledAggregationJob): Promise<number> {
  const [c] = await admin.fetchOffsets({ groupId: job.groupId, topics: [job.stream.topic] });
  return c!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

async function dropDatabase(job: CompiledAggregationJob): Promise<void> {
  const ch = createClient({ url: env.clickhouseUrl });
  await ch.command({ query: `DROP DATABASE IF EXISTS \`${job.output.database}\`` }).catch(() => {});
  await ch.close();
}

function spawnWorker(job: CompiledAggregationJob, failpoints = ""): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../fixtures/run-aggregation.ts"), JSON.stringify(job)], {
    env: { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(","), CLICKHOUSE_URL: env.clickhouseUrl, AGGREGATION_TICK_MS: "100", SLUICE_FAILPOINTS: failpoints },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => d.toString().includes('"ready":true') && resolve(child));
    child.on("exit", (code) => reject(new Error(`run-aggregation exited with ${code}: ${stderr.slice(-2000)}`)));
  });
}

function killed(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

function testJob(o: { partitions: number; maxOutOfOrderness: string; allowedLateness: string; earlyFirings?: string; window?: "tumbling" | "sliding" }): CompiledAggregationJob {
  const name = randomName("aggt");
  const ident = name.replace(/-/g, "_");
  const stream: CompiledStream = {
    namespace: "test",
    name,
    topic: `${name}.events`,
    deadLetterTopic: `${name}.dlq`,
    partitions: o.partitions,
    replicationFactor: 1,
    minInSyncReplicas: 1,
    retentionMs: 3_600_000,
    compression: "none",
    schema: {
      version: 1,
      strict: false,
      fields: [
        { name: "event_id", type: "string", required: true },
        { name: "campaign", type: "string", required: true },
        { name: "event_time", type: "timestamp", required: true },
        { name: "cost", type: "int64", required: true },
        { name: "user", type: "string", required: false },
      ],
    },
    keys: { eventId: "event_id", eventTime: "event_time", partitionBy: "campaign" },
    ingest: { enabled: true, maxBodyBytes: 1 << 20, maxEventBytes: 65_536, maxEventsPerRequest: 1000 },
    deletionPolicy: "Delete",
  };
  const engine = compileAggregation({
    window: o.window === "sliding" ? { type: "sliding", size: "1m", slide: `${SLIDE / 1000}s` } : { type: "tumbling", size: "1m" },
    // Idleness is processing time: kept out of the way so results depend on the input only.
    watermark: { maxOutOfOrderness: o.maxOutOfOrderness, idleTimeout: "1h" },
    allowedLateness: o.allowedLateness,
    earlyFirings: o.earlyFirings,
    groupBy: ["campaign"],
    measures: [
      { name: "n", fn: "count" },
      { name: "spend", fn: "sum", field: "cost" },
      { name: "users", fn: "uniqExact", field: "user" },
    ],
  });
  const database = `db_${ident}`;
  return {
    namespace: "test",
    name,
    stream,
    groupId: `sluice.test.aggregation.${name}`,
    engine,
    output: { database, table: "per_minute" },
    late: { policy: "Table", database, table: "per_minute_late" },
    scaling: { minReplicas: 1, maxReplicas: 1, targetLagSeconds: 5, scaleDownStabilizationSeconds: 120 },
  };
}
