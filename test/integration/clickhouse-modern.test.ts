/**
 * The modern dialect (DateTime64(3), table TTL, a dedup window with insert tokens) on a
 * current ClickHouse. The testbed runs Debian's 18.16, so until this the modern path was
 * only compared as strings. chdb runs ClickHouse 26.x in this process behind the same
 * @clickhouse/client the workers use; every statement comes from the runtime's own
 * functions. Needs no Kafka: the producer and the offset commits are recorded stubs.
 * The ':memory:' engine is shared by the whole process, hence random database names.
 */
import { randomBytes } from "node:crypto";
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { createChdbConnection } from "chdb/connection";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AggregationEngine, type Output } from "../../runtime/aggregate/engine.js";
import { ensureAggregationTables } from "../../runtime/aggregation-worker/ensure-tables.js";
import type { CompiledAggregationJob } from "../../runtime/aggregation-worker/job.js";
import { aggregationMetrics } from "../../runtime/aggregation-worker/metrics.js";
import { aggregateColumns, lateColumns, tableRef as aggTableRef } from "../../runtime/aggregation-worker/table-ddl.js";
import { writeFlush } from "../../runtime/aggregation-worker/write-flush.js";
import { ensureSinkTable, existingColumns } from "../../runtime/clickhouse/ensure-sink-table.js";
import { detectServerFeatures, type ServerFeatures } from "../../runtime/clickhouse/server-version.js";
import { desiredColumns, tableRef } from "../../runtime/clickhouse/table-ddl.js";
import { createRegistry } from "../../runtime/metrics/registry.js";
import type { CompiledField, CompiledSink, CompiledStream } from "../../runtime/pipeline/compiled.js";
import { loadPipeline } from "../../runtime/pipeline/load.js";
import { writeBatch, writeBatches, type Batch, type WriterDeps } from "../../runtime/sink/batch-writer.js";
import { decodeIntent, newGroupId } from "../../runtime/sink/offset-intent.js";
import { decodeRecord, type SourceRecord } from "../../runtime/sink/decode.js";
import { sinkMetrics } from "../../runtime/sink/metrics.js";
import type { RetryContext } from "../../runtime/sink/retry.js";

const examples = ["ad-clicks", "audit-log", "clickstream", "delivery"].map((dir) => loadPipeline([`examples/${dir}`]));
const sinks = examples.flatMap((p) => p.sinks);
const aggregations = examples.flatMap((p) => p.aggregations);
/** Recent, so every sink's TTL (7 days and up) keeps the rows; whole minutes keep windows aligned. */
const BASE_MS = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;

type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>["connection"];
let ch: ClickHouseClient;
let features: ServerFeatures;
const databases: string[] = [];
const randomDb = (prefix: string) => {
  const db = `${prefix}_${randomBytes(4).toString("hex")}`;
  databases.push(db);
  return db;
};

beforeAll(async () => {
  // chdb types its Connection with @clickhouse/client-common 1.23.0; the client bundles its
  // own 1.23.1 copy whose settings type differs in detail. Same contract at runtime.
  const connection = createChdbConnection({ path: ":memory:" }) as unknown as ClientConnection;
  ch = createClient({ connection });
  features = await detectServerFeatures(ch);
  console.log("[clickhouse-modern] chdb", features.version.text);
});
// chdb applies clickhouse_settings as session-wide SETs (over HTTP they are per request),
// so an insert without a token would reuse the previous insert's token: start each test clean.
beforeEach(async () => {
  await ch.command({ query: "SET insert_deduplication_token = ''" });
});
afterAll(async () => {
  for (const db of databases) await ch.command({ query: `DROP DATABASE IF EXISTS \`${db}\`` });
  await ch.close();
});

async function rows<T>(query: string): Promise<T[]> {
  return (await (await ch.query({ query, format: "JSONEachRow" })).json()) as T[];
}
const lit = (s: string) => `'${s.replace(/'/g, "\\'")}'`;
const columnsOf = (t: { database: string; table: string }) =>
  rows<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = ${lit(t.database)} AND table = ${lit(t.table)} ORDER BY position`).then((r) => r.map((c): [string, string] => [c.name, c.type]));
const count = async (from: string) => Number((await rows<{ n: string }>(`SELECT count() AS n FROM ${from}`))[0]!.n);

describe("a current ClickHouse (chdb)", () => {
  it("is detected as 26.x with DateTime64, table TTL and deduplication tokens", () => {
    expect(features.version.major).toBe(26);
    expect(features).toMatchObject({ dateTime64: true, tableTtl: true, insertDeduplicationToken: true });
  });
});

/** One valid event per index; every third leaves its optional fields out, so they are NULL. */
function event(stream: CompiledStream, i: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of stream.schema.fields) if (f.required || i % 3 !== 0) out[f.name] = sample(stream, f, i);
  return out;
}
function sample(stream: CompiledStream, f: CompiledField, i: number): unknown {
  switch (f.type) {
    case "uuid":
      return `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;
    case "string":
      // Few distinct values, so aggregations get several rows per group; ids stay unique.
      return f.name === stream.keys.eventId ? `${f.name}-${i}` : `${f.name}-${i % 3}`;
    case "int32":
    case "int64":
      return i * 7;
    case "float64":
      return i + 0.25;
    case "boolean":
      return i % 2 === 0;
    case "timestamp":
      return BASE_MS + i * 1_001; // never a whole second: milliseconds must survive
  }
}
function records(stream: CompiledStream, from: number, to: number, partition = 0): SourceRecord[] {
  return Array.from({ length: to - from }, (_, k) => ({
    partition,
    offset: from + k,
    key: null,
    value: Buffer.from(JSON.stringify(event(stream, from + k))),
    headers: {},
    timestampMs: BASE_MS,
  }));
}

/** Errors surface at once instead of being retried until the test times out. */
const failFast: RetryContext = {
  shouldContinue: () => true,
  signal: new AbortController().signal,
  backoff: { initialMs: 1, maxMs: 1 },
  onRetry: (_what, _attempt, err) => {
    throw err;
  },
};

function writer(sink: CompiledSink, f: ServerFeatures = features) {
  const commits: { partition: number; offset: number; metadata: string | null }[] = [];
  const deps: WriterDeps = {
    sink, sinkLabel: `test/${sink.name}`, features: f, clickhouse: ch,
    commit: async (offsets) => void commits.push(...offsets),
    deadLetterAndCommit: async (partition, offset) => void commits.push({ partition, offset, metadata: null }),
    kafkaRetryDeadlineMs: 60_000, metrics: sinkMetrics(createRegistry(false)), now: () => BASE_MS,
  };
  const write = (start: number, end: number, replay = false) => writeBatch(deps, { partition: 0, start, end, records: records(sink.stream, start, end), replay } satisfies Batch, failFast);
  /** Batches of several partitions in one insert: [partition, start, end] each. */
  const writeCombined = (parts: [number, number, number][]) =>
    writeBatches(deps, parts.map(([partition, start, end]): Batch => ({ partition, start, end, records: records(sink.stream, start, end, partition), replay: false })), failFast);
  /** The replay of one partition's batch of a combined insert, as its next owner cuts it. */
  const replayOfGroup = (partition: number, start: number, end: number, group: string) =>
    writeBatch(deps, { partition, start, end, records: records(sink.stream, start, end, partition), replay: true, group }, failFast);
  return { write, writeCombined, replayOfGroup, commits, metrics: deps.metrics };
}

describe.each(sinks.map((s) => [`${s.database}.${s.table}`, s] as const))("the sink table %s", (_, example) => {
  const fresh = (): CompiledSink => ({ ...example, database: randomDb("sink") });

  it("is created with the modern types, TTL and dedup window; a second ensure changes nothing", async () => {
    const sink = fresh();
    expect(await ensureSinkTable(ch, sink, features)).toEqual({ created: true, addedColumns: [] });
    expect(await columnsOf(sink)).toEqual(desiredColumns(sink, features));
    expect(desiredColumns(sink, features)).toContainEqual([sink.stream.keys.eventTime, "DateTime64(3, 'UTC')"]);
    const [{ statement }] = (await rows<{ statement: string }>(`SHOW CREATE TABLE ${tableRef(sink)}`)) as [{ statement: string }];
    expect(statement).toMatch(new RegExp(`TTL toDateTime\\(${sink.stream.keys.eventTime}\\) \\+ toIntervalSecond\\(${Math.ceil(sink.retentionMs / 1000)}\\)`));
    expect(statement).toContain("non_replicated_deduplication_window = 1000");
    expect(await ensureSinkTable(ch, sink, features)).toEqual({ created: false, addedColumns: [] });
    expect([...(await existingColumns(ch, sink))]).toEqual(desiredColumns(sink, features).map(([n]) => n));
  });

  it("when a batch is replayed with the same token, it adds no rows; the next batch does", async () => {
    const sink = fresh();
    await ensureSinkTable(ch, sink, features);
    const { write, commits } = writer(sink);
    expect(await write(0, 30)).toMatchObject({ rows: 30, poison: 0, skippedInsert: false });
    expect(await write(0, 30, true)).toMatchObject({ rows: 30, skippedInsert: false });
    // count() without FINAL: the second copy was dropped at insert, not merely collapsed on read.
    expect(await count(tableRef(sink))).toBe(30);
    await write(30, 50);
    expect(await count(tableRef(sink))).toBe(50);
    expect(await count(`${tableRef(sink)} FINAL`)).toBe(50);
    expect(commits.map((c) => [c.offset, c.metadata])).toEqual([[0, "sluice-intent:v1:30"], [30, null], [30, null], [30, "sluice-intent:v1:50"], [50, null]]);
  });

  it("keeps event time and ingest time to the millisecond", async () => {
    const sink = fresh();
    await ensureSinkTable(ch, sink, features);
    await writer(sink).write(0, 10);
    const t = sink.stream.keys.eventTime;
    const got = await rows<{ id: string; t: string; ingest: string }>(
      `SELECT toString(\`${sink.stream.keys.eventId}\`) AS id, toUnixTimestamp64Milli(\`${t}\`) AS t, toUnixTimestamp64Milli(_ingest_time) AS ingest FROM ${tableRef(sink)} ORDER BY _kafka_offset`,
    );
    const sent = records(sink.stream, 0, 10).map((r) => decodeRecord(sink.stream, r)).map((d) => (d.ok ? d.value : undefined)!);
    expect(got.map((r) => [r.id, Number(r.t), Number(r.ingest)])).toEqual(sent.map((d) => [d.eventId, d.eventTimeMs, BASE_MS]));
  });

  it("a new optional field becomes a Nullable column, old rows still read, nothing dropped", async () => {
    const sink = fresh();
    await ensureSinkTable(ch, sink, features);
    await writer(sink).write(0, 20);
    const before = await columnsOf(sink);
    const v2: CompiledSink = { ...sink, stream: { ...sink.stream, schema: { ...sink.stream.schema, version: sink.stream.schema.version + 1, fields: [...sink.stream.schema.fields, { name: "coupon", type: "string", required: false }] } } };
    expect(await ensureSinkTable(ch, v2, features)).toEqual({ created: false, addedColumns: ["coupon"] });
    const after = await columnsOf(sink);
    expect(after).toEqual(expect.arrayContaining(before));
    expect(after).toContainEqual(["coupon", "Nullable(String)"]);
    expect(await count(`${tableRef(sink)} FINAL WHERE coupon IS NULL`)).toBe(20);
    await writer(v2).write(20, 30);
    expect(await count(`${tableRef(sink)} FINAL`)).toBe(30);
  });

  it("without tokens (the 18.16 path), a replay finds its range already written and skips the insert", async () => {
    const sink = fresh();
    await ensureSinkTable(ch, sink, features);
    const noTokens = writer(sink, { ...features, insertDeduplicationToken: false });
    await noTokens.write(0, 10);
    expect(await count(tableRef(sink))).toBe(10);
    expect(await noTokens.write(0, 10, true)).toMatchObject({ skippedInsert: true });
    expect(await noTokens.write(10, 20, true)).toMatchObject({ skippedInsert: false });
    expect(await count(tableRef(sink))).toBe(20);
  });
});

describe("an optional field in a sink's sorting key", () => {
  it("stores NULL as the type's default, since key columns are not Nullable", async () => {
    const clickstream = sinks.find((s) => s.table === "page_views")!;
    const sink: CompiledSink = { ...clickstream, database: randomDb("sink"), orderBy: ["tenant_id", "referrer", "event_time", "event_id"] };
    await ensureSinkTable(ch, sink, features);
    expect(await columnsOf(sink)).toContainEqual(["referrer", "String"]);
    await writer(sink).write(0, 6);
    // Events 0 and 3 left referrer out.
    const blank = await rows<{ o: string }>(`SELECT _kafka_offset AS o FROM ${tableRef(sink)} FINAL WHERE referrer = '' ORDER BY o`);
    expect(blank.map((r) => Number(r.o))).toEqual([0, 3]);
  });
});

describe("a batch that spans several table partitions", () => {
  it("is written as one part per partition and still deduplicated as a whole on replay", async () => {
    // A day-partitioned table gets such batches around midnight; ClickHouse derives one token per part.
    const sink: CompiledSink = { ...sinks[0]!, database: randomDb("sink"), partitionBy: "_kafka_offset % 3" };
    await ensureSinkTable(ch, sink, features);
    const { write } = writer(sink);
    await write(0, 30);
    await write(0, 30, true);
    expect(await count(tableRef(sink))).toBe(30);
    expect(await count(`system.parts WHERE database = ${lit(sink.database)} AND active`)).toBe(3);
  });
});

describe("batches of several partitions in one insert", () => {
  const fresh = (): CompiledSink => ({ ...sinks[0]!, database: randomDb("sink") });
  // Offsets far apart give each partition's events their own ids (the test events are numbered by offset).
  const parts: [number, number, number][] = [[0, 0, 10], [1, 100, 110], [2, 200, 205]];

  it("are written by one insert, with every intent naming the group in one commit", async () => {
    const sink = fresh();
    await ensureSinkTable(ch, sink, features);
    const { writeCombined, commits, metrics } = writer(sink);
    expect(await writeCombined(parts)).toEqual([10, 10, 5].map((rows) => ({ rows, duplicates: 0, poison: 0, skippedInsert: false })));
    expect(await count(tableRef(sink))).toBe(25);
    expect((await metrics.insertSeconds.get()).values.find((v) => v.metricName?.endsWith("_count"))?.value).toBe(1);
    const intents = commits.slice(0, 3).map((c) => decodeIntent(c.metadata, c.offset));
    expect(intents.map((i) => i?.end)).toEqual([10, 110, 205]);
    expect(new Set(intents.map((i) => i?.group)).size).toBe(1);
    expect(intents[0]?.group).toMatch(/^[0-9a-f]{16}$/);
    expect(commits.slice(3)).toEqual([{ partition: 0, offset: 10, metadata: null }, { partition: 1, offset: 110, metadata: null }, { partition: 2, offset: 205, metadata: null }]);
  });

  it("a replay of one partition's batch after the insert landed adds no row, with or without tokens", async () => {
    const sink = fresh();
    await ensureSinkTable(ch, sink, features);
    const { writeCombined, commits, replayOfGroup } = writer(sink);
    await writeCombined(parts);
    const group = decodeIntent(commits[0]!.metadata, 0)!.group!;
    expect(await replayOfGroup(1, 100, 110, group)).toMatchObject({ rows: 10, skippedInsert: true });
    expect(await writer(sink, { ...features, insertDeduplicationToken: false }).replayOfGroup(2, 200, 205, group)).toMatchObject({ rows: 5, skippedInsert: true });
    // count() without FINAL: nothing was inserted twice, not merely collapsed on read.
    expect(await count(tableRef(sink))).toBe(25);
  });

  it("a replay after the insert landed in part (or not at all) inserts exactly the rows the table lacks, once", async () => {
    const sink = fresh();
    await ensureSinkTable(ch, sink, features);
    const { write, replayOfGroup } = writer(sink);
    await write(0, 4); // partition 0, offsets 0-3 in the table: what a killed insert left
    const group = newGroupId();
    expect(await replayOfGroup(0, 0, 10, group)).toMatchObject({ rows: 10, skippedInsert: false });
    expect(await count(tableRef(sink))).toBe(10);
    expect(await count(`(SELECT DISTINCT _kafka_offset FROM ${tableRef(sink)})`)).toBe(10);
    // A second replay (the first one's owner crashed before committing) finds all of them.
    expect(await replayOfGroup(0, 0, 10, group)).toMatchObject({ skippedInsert: true });
    expect(await count(tableRef(sink))).toBe(10);
  });
});

/** Runs the real engine over events [0, n) of partition 0 and returns what it emitted, windows closed. */
function aggregate(job: CompiledAggregationJob, n: number): { outputs: Output[]; engine: AggregationEngine } {
  const engine = new AggregationEngine(job.engine, () => BASE_MS);
  engine.assign([0]);
  const outputs: Output[] = [];
  for (const r of records(job.stream, 0, n)) {
    const d = decodeRecord(job.stream, r);
    if (!d.ok) throw new Error(`test event is poison: ${d.poison.reason}`);
    outputs.push(...engine.onEvent({ partition: 0, offset: r.offset, eventId: d.value.eventId, eventTimeMs: d.value.eventTimeMs, row: d.value.row }));
  }
  outputs.push(...engine.finish());
  return { outputs, engine };
}

describe.each(aggregations.map((j) => [`${j.output.database}.${j.output.table}`, j] as const))("the aggregation tables of %s", (_, example) => {
  const fresh = (): CompiledAggregationJob => {
    const database = randomDb("agg");
    return { ...example, output: { ...example.output, database }, late: example.late.policy === "Table" ? { ...example.late, database } : example.late };
  };
  const flusher = (job: CompiledAggregationJob) => ({
    job, label: `test/${job.name}`, features, clickhouse: ch, commit: async () => {}, commitWithMessages: async () => {},
    metrics: aggregationMetrics(createRegistry(false)), now: () => BASE_MS,
  });
  const key = (job: CompiledAggregationJob) => ["toUnixTimestamp64Milli(window_start) AS ws", ...job.engine.groupBy.map((g) => `\`${g}\``)].join(", ");

  it("are created with the modern types, and ensuring them again changes nothing", async () => {
    const job = fresh();
    await ensureAggregationTables(ch, job, features);
    await ensureAggregationTables(ch, job, features);
    expect(await columnsOf(job.output)).toEqual(aggregateColumns(job, features));
    if (job.late.policy === "Table") expect(await columnsOf(job.late)).toEqual(lateColumns(job, features));
  });

  it("a newer version supersedes the older row under FINAL, and it is read back by FINAL", async () => {
    const job = fresh();
    await ensureAggregationTables(ch, job, features);
    const partial = aggregate(job, 12);
    const full = aggregate(job, 24);
    const results = (o: Output[]) => o.filter((x): x is Extract<Output, { kind: "result" }> => x.kind === "result");
    await writeFlush(flusher(job), { outputs: partial.outputs, poison: [], checkpoint: partial.engine.checkpoint() }, failFast);
    await writeFlush(flusher(job), { outputs: full.outputs, poison: [], checkpoint: full.engine.checkpoint() }, failFast);
    const final = `${aggTableRef(job.output)} FINAL WHERE is_deleted = 0`;
    const newest = new Map<string, number>();
    for (const { row } of results(full.outputs)) {
      const k = JSON.stringify([row.windowStart, ...job.engine.groupBy.map((g) => row[g])]);
      newest.set(k, Math.max(newest.get(k) ?? 0, row.version));
    }
    const read = await rows<Record<string, string | number>>(`SELECT ${key(job)}, version FROM ${final} ORDER BY ws`);
    expect(read).toHaveLength(newest.size);
    for (const r of read) expect(Number(r.version)).toBe(newest.get(JSON.stringify([Number(r.ws), ...job.engine.groupBy.map((g) => r[g])])));
    // The first measure of the full run is what FINAL returns, not the partial run's.
    const m = job.engine.measures[0]!.name;
    const total = results(full.outputs).filter((o) => newest.get(JSON.stringify([o.row.windowStart, ...job.engine.groupBy.map((g) => o.row[g])])) === o.row.version);
    expect(Number((await rows<{ s: string }>(`SELECT sum(\`${m}\`) AS s FROM ${final}`))[0]!.s)).toBe(total.reduce((s, o) => s + Number(o.row[m]), 0));

  });

  it.runIf(example.late.policy === "Table")("late events land in the late table, once per event id", async () => {
    const job = fresh();
    await ensureAggregationTables(ch, job, features);
    const { engine } = aggregate(job, 6);
    // An event a day later on the same partition moves its watermark past every window of
    // events 6-8: each partition's events are judged by that partition's own watermark.
    const ahead = decodeRecord(job.stream, records(job.stream, 86_400, 86_401)[0]!);
    if (!ahead.ok) throw new Error(ahead.poison.reason);
    engine.onEvent({ partition: 0, offset: 6, eventId: ahead.value.eventId, eventTimeMs: ahead.value.eventTimeMs, row: ahead.value.row });
    const late = records(job.stream, 6, 9).map((r) => ({ ...r, offset: r.offset + 1 })).flatMap((r) => {
      const d = decodeRecord(job.stream, r);
      return d.ok ? engine.onEvent({ partition: 0, offset: r.offset, eventId: d.value.eventId, eventTimeMs: d.value.eventTimeMs, row: d.value.row }) : [];
    });
    expect(late.map((o) => o.kind)).toEqual(["late", "late", "late"]);
    for (let i = 0; i < 2; i++) await writeFlush(flusher(job), { outputs: late, poison: [], checkpoint: engine.checkpoint() }, failFast);
    const table = job.late.policy === "Table" ? aggTableRef(job.late) : "";
    expect(await count(`${table} FINAL`)).toBe(3);
    const t = job.stream.keys.eventTime;
    expect((await rows<{ t: string }>(`SELECT toUnixTimestamp64Milli(\`${t}\`) AS t FROM ${table} FINAL ORDER BY _kafka_offset`)).map((r) => Number(r.t))).toEqual([6, 7, 8].map((i) => BASE_MS + i * 1_001));
  });
});
