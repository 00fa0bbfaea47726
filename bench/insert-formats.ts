/**
 * Does another insert format pay off for the sink? (issue 14)
 *
 * Inserts the same decoded rows (the clickstream page views the sink sees, ~500 B as JSON)
 * into a fresh table shaped by the sink's own DDL, once per format, formats interleaved and
 * rotated over the rounds:
 *
 *   json-objects     JSONEachRow from JS objects: encodeRow + client.insert, what the sink does today
 *   json-buffer      JSONEachRow pre-joined by us into one Buffer per insert, sent with client.exec
 *   rowbinary        RowBinary by the schema-driven encoder below, sent with client.exec
 *   rowbinary-fixed  the same bytes written straight-line for this table (the ceiling a
 *                    generated per-schema encoder could reach); only for the DateTime table
 *
 * Native is not measured: no maintained npm library encodes it (see bench/README.md).
 * @clickhouse/client 1.23 only accepts JSON* and a few text formats (plus Parquet) in
 * `insert`; a raw binary body goes through `exec` with the FORMAT in the SQL, which is the
 * documented way ("a custom INSERT statement with exec").
 *
 * Per format: client CPU per row (process.cpuUsage around encode + insert), ClickHouse CPU
 * per row from system.query_log (the insert's own thread) and from /proc/<pid>/stat (the
 * whole server, merges included, when exactly one local clickhouse-server runs), wall time.
 * Every table's row count and checksum must match, or the run fails. Also prints each
 * format's encoding alone (no request), to split client cost into encoding and sending.
 *
 *   source .testbed/env && node_modules/.bin/tsx bench/insert-formats.ts
 *   BENCH_FORMAT_ROWS=200000 BENCH_FORMAT_BATCH=10000 BENCH_FORMAT_ROUNDS=3
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { createTableSql, desiredColumns, ident, tableRef } from "../runtime/clickhouse/table-ddl.js";
import { detectServerFeatures, type ServerFeatures } from "../runtime/clickhouse/server-version.js";
import { decodeRecord, type DecodedRow } from "../runtime/sink/decode.js";
import { encodeRow } from "../runtime/sink/encode-row.js";
import type { CompiledSink } from "../runtime/pipeline/compiled.js";
import { benchPipeline } from "./pipeline.js";
import { collectorRecord, makeEvent, tenantFor } from "./events.js";

const num = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
  return v;
};
const ROWS = num("BENCH_FORMAT_ROWS", 200_000);
const BATCH = num("BENCH_FORMAT_BATCH", 10_000);
const ROUNDS = num("BENCH_FORMAT_ROUNDS", 3);
const EVENT_BYTES = num("BENCH_EVENT_BYTES", 500);

// A full GC before each timed insert, so garbage made outside the window (the rows, the
// previous insert) is not collected and billed inside it. The flag is set at run time so
// plain tsx runs the file.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

// ---------------------------------------------------------------------------------------
// RowBinary encoder, driven by the sink's column list so it follows a schema like
// encodeRow does (schemas are user-declared; a per-schema generated encoder would be
// faster still, but this is what the sink could ship without code generation).

const enum Kind { String, Int32, Int64, UInt8, UInt32, UInt64, Float64, DateTime, DateTime64 }
const enum Source { Row, IngestTime, Partition, Offset, SchemaVersion }

interface Column { name: string; kind: Kind; nullable: boolean; key: boolean; source: Source }

function kindOf(type: string): Kind {
  if (type === "String") return Kind.String;
  if (type === "Int32") return Kind.Int32;
  if (type === "Int64") return Kind.Int64;
  if (type === "UInt8") return Kind.UInt8;
  if (type === "UInt32") return Kind.UInt32;
  if (type === "UInt64") return Kind.UInt64;
  if (type === "Float64") return Kind.Float64;
  if (type.startsWith("DateTime64(3")) return Kind.DateTime64;
  if (type.startsWith("DateTime")) return Kind.DateTime;
  throw new Error(`no RowBinary writer for ${type}`);
}

const metaSource: Record<string, Source> = { _ingest_time: Source.IngestTime, _kafka_partition: Source.Partition, _kafka_offset: Source.Offset, _schema_version: Source.SchemaVersion };

function rowBinaryColumns(sink: CompiledSink, f: ServerFeatures): Column[] {
  const key = new Set(sink.orderBy);
  return desiredColumns(sink, f).map(([name, type]) => {
    const nullable = type.startsWith("Nullable(");
    const base = nullable ? type.slice("Nullable(".length, -1) : type;
    return { name, kind: kindOf(base), nullable, key: key.has(name), source: metaSource[name] ?? Source.Row };
  });
}

const TWO32 = 2 ** 32;
const varintSize = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

class RowBinaryWriter {
  buf: Buffer;
  pos = 0;
  constructor(bytes: number) {
    this.buf = Buffer.allocUnsafe(bytes);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  /**
   * LEB128 byte length, then UTF-8. Encodes in one pass: the UTF-8 length is at least the
   * UTF-16 length, so the prefix is sized from that and the bytes are shifted only when a
   * multi-byte string crosses a varint boundary (never for ASCII).
   */
  string(s: string): void {
    this.ensure(s.length * 3 + 5);
    // Short ASCII strings (ids, urls) byte by byte in JS: cheaper than a call into C++ per
    // string. The first non-ASCII char falls through to the general path, which rewrites.
    if (s.length < 0x80) {
      const buf = this.buf;
      let p = this.pos + 1;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === s.length) {
        buf[this.pos] = s.length;
        this.pos = p;
        return;
      }
    }
    const guess = varintSize(s.length);
    const n = this.buf.write(s, this.pos + guess, "utf8");
    const size = varintSize(n);
    if (size !== guess) this.buf.copyWithin(this.pos + size, this.pos + guess, this.pos + guess + n);
    this.varint(n);
    this.pos += n;
  }
  /** Int64/UInt64 from a JS number (exact below 2^53, as in the JSON path) without BigInt. */
  int64(v: number, signed: boolean): void {
    this.ensure(8);
    const hi = Math.floor(v / TWO32);
    this.buf.writeUInt32LE(v - hi * TWO32, this.pos);
    if (signed) this.buf.writeInt32LE(hi, this.pos + 4);
    else this.buf.writeUInt32LE(hi, this.pos + 4);
    this.pos += 8;
  }
}

function writeValue(w: RowBinaryWriter, kind: Kind, v: string | number | boolean): void {
  switch (kind) {
    case Kind.String:
      w.string(v as string);
      return;
    case Kind.Int32:
      w.ensure(4);
      w.pos = w.buf.writeInt32LE(v as number, w.pos);
      return;
    case Kind.UInt8:
      w.ensure(1);
      w.buf[w.pos++] = typeof v === "boolean" ? (v ? 1 : 0) : (v as number);
      return;
    case Kind.UInt32:
      w.ensure(4);
      w.pos = w.buf.writeUInt32LE(v as number, w.pos);
      return;
    case Kind.Int64:
      w.int64(v as number, true);
      return;
    case Kind.UInt64:
      w.int64(v as number, false);
      return;
    case Kind.Float64:
      w.ensure(8);
      w.pos = w.buf.writeDoubleLE(v as number, w.pos);
      return;
    case Kind.DateTime:
      // UInt32 epoch seconds: the JSON path's Math.floor(ms / 1000).
      w.ensure(4);
      w.pos = w.buf.writeUInt32LE(Math.floor((v as number) / 1000), w.pos);
      return;
    case Kind.DateTime64:
      w.int64(v as number, true);
      return;
  }
}

/**
 * The ceiling for RowBinary: the clickstream table's columns written straight-line (no
 * per-column dispatch, literal property names), as a generated per-schema encoder would.
 * Only for the 18.16 column list below; checked against the DDL before it is used.
 */
const CLICKSTREAM_DATETIME_COLUMNS = "event_id String, tenant_id String, user_id String, event_time DateTime('UTC'), url String, referrer Nullable(String), duration_ms Nullable(Int32), _ingest_time DateTime('UTC'), _kafka_partition UInt32, _kafka_offset UInt64, _schema_version UInt32";

function encodeClickstreamRowBinary(rows: readonly DecodedRow[]): Buffer {
  const w = new RowBinaryWriter(rows.length * (EVENT_BYTES + 64));
  for (const d of rows) {
    const r = d.row;
    w.string((r.event_id ?? "") as string);
    w.string((r.tenant_id ?? "") as string);
    w.string((r.user_id ?? "") as string);
    w.ensure(4);
    w.pos = w.buf.writeUInt32LE(Math.floor(((r.event_time ?? 0) as number) / 1000), w.pos);
    w.string((r.url ?? "") as string);
    const referrer = r.referrer;
    w.ensure(5);
    if (referrer === null || referrer === undefined) w.buf[w.pos++] = 1;
    else {
      w.buf[w.pos++] = 0;
      w.string(referrer as string);
    }
    const duration = r.duration_ms;
    w.ensure(5);
    if (duration === null || duration === undefined) w.buf[w.pos++] = 1;
    else {
      w.buf[w.pos++] = 0;
      w.pos = w.buf.writeInt32LE(duration as number, w.pos);
    }
    // _ingest_time, _kafka_partition, _kafka_offset, _schema_version: one 20-byte run.
    w.ensure(20);
    const buf = w.buf;
    const o = w.pos;
    buf.writeUInt32LE(Math.floor(d.ingestTimeMs / 1000), o);
    buf.writeUInt32LE(d.record.partition, o + 4);
    const hi = Math.floor(d.record.offset / TWO32);
    buf.writeUInt32LE(d.record.offset - hi * TWO32, o + 8);
    buf.writeUInt32LE(hi, o + 12);
    buf.writeUInt32LE(d.schemaVersion, o + 16);
    w.pos = o + 20;
  }
  return w.buf.subarray(0, w.pos);
}

/** The same values encodeRow produces (null -> the type's default in key columns), as RowBinary. */
function encodeRowBinary(cols: readonly Column[], rows: readonly DecodedRow[]): Buffer {
  const w = new RowBinaryWriter(rows.length * (EVENT_BYTES + 64));
  for (const d of rows) {
    for (const c of cols) {
      let v: string | number | boolean | null | undefined;
      switch (c.source) {
        case Source.Row: v = d.row[c.name]; break;
        case Source.IngestTime: v = d.ingestTimeMs; break;
        case Source.Partition: v = d.record.partition; break;
        case Source.Offset: v = d.record.offset; break;
        case Source.SchemaVersion: v = d.schemaVersion; break;
      }
      if (v === null || v === undefined) {
        if (c.nullable) {
          w.ensure(1);
          w.buf[w.pos++] = 1;
          continue;
        }
        v = c.kind === Kind.String ? "" : 0;
      } else if (c.nullable) {
        w.ensure(1);
        w.buf[w.pos++] = 0;
      }
      writeValue(w, c.kind, v);
    }
  }
  return w.buf.subarray(0, w.pos);
}

// ---------------------------------------------------------------------------------------
// The formats

interface Env {
  ch: ClickHouseClient;
  sink: CompiledSink;
  features: ServerFeatures;
  keyColumns: ReadonlySet<string>;
  rbColumns: Column[];
  columnList: string;
}

/** One insert of `rows`; returns the query id (for query_log) and the body's size in bytes. */
type InsertFn = (env: Env, table: string, rows: readonly DecodedRow[]) => Promise<{ queryId: string; bytes: number }>;

// log_queries: the server's own CPU per insert comes from system.query_log.
const settings = { log_queries: 1 } as const;

/** exec returns the response body as a stream: read it to the end so the socket goes back to the pool. */
async function execInsert(env: Env, query: string, body: Buffer): Promise<string> {
  const r = await env.ch.exec({ query, values: Readable.from([body], { objectMode: false }), clickhouse_settings: settings });
  for await (const _ of r.stream) { /* empty for an INSERT */ }
  return r.query_id;
}

/** JSONEachRow text as the client builds it from objects (encodeJSON: stringify + "\n", joined). */
const jsonLines = (env: Env, rows: readonly DecodedRow[]) =>
  rows.map((d) => JSON.stringify(encodeRow(env.sink.stream, env.keyColumns, d, env.features)) + "\n").join("");

/**
 * The encoding alone, no request: splits each format's client cost into encoding and
 * sending. json-objects' row is what the client does inside insert() before the request.
 */
const ENCODE_ONLY: Record<string, (env: Env, rows: readonly DecodedRow[]) => string | Buffer> = {
  "json-objects": jsonLines,
  "json-buffer": (env, rows) => Buffer.from(jsonLines(env, rows), "utf8"),
  rowbinary: (env, rows) => encodeRowBinary(env.rbColumns, rows),
  "rowbinary-fixed": (_env, rows) => encodeClickstreamRowBinary(rows),
};

const FORMATS: Record<string, InsertFn> = {
  "json-objects": async (env, table, rows) => {
    const values = rows.map((d) => encodeRow(env.sink.stream, env.keyColumns, d, env.features));
    const r = await env.ch.insert({ table, values, format: "JSONEachRow", clickhouse_settings: settings });
    // The client builds the body itself; its size is about json-buffer's.
    return { queryId: r.query_id, bytes: 0 };
  },
  "json-buffer": async (env, table, rows) => {
    const body = Buffer.from(jsonLines(env, rows), "utf8");
    return { queryId: await execInsert(env, `INSERT INTO ${table} FORMAT JSONEachRow`, body), bytes: body.length };
  },
  rowbinary: async (env, table, rows) => {
    const body = encodeRowBinary(env.rbColumns, rows);
    // The column list pins the order the encoder wrote, whatever order the table has.
    return { queryId: await execInsert(env, `INSERT INTO ${table} (${env.columnList}) FORMAT RowBinary`, body), bytes: body.length };
  },
  "rowbinary-fixed": async (env, table, rows) => {
    const body = encodeClickstreamRowBinary(rows);
    return { queryId: await execInsert(env, `INSERT INTO ${table} (${env.columnList}) FORMAT RowBinary`, body), bytes: body.length };
  },
};

// ---------------------------------------------------------------------------------------
// Server CPU

/** The local server's pid when exactly one clickhouse-server runs here; otherwise no /proc figure. */
function serverPid(url: string): number | undefined {
  if (!/\/\/(127\.0\.0\.1|localhost)[:/]/.test(url)) return undefined;
  try {
    const pids = execFileSync("pgrep", ["-f", "clickhouse-server"], { encoding: "utf8" }).trim().split("\n").map(Number);
    return pids.length === 1 ? pids[0] : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in µs (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 10 ms). */
function procCpuMicros(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function queryLogCpuMicros(env: Env, ids: string[]): Promise<number> {
  await env.ch.command({ query: "SYSTEM FLUSH LOGS" });
  // ProfileEvents became a Map in 21.8; 18.16 has the Names/Values arrays.
  const oldLog = env.features.version.major < 21 || (env.features.version.major === 21 && env.features.version.minor < 8);
  const cpu = oldLog
    ? "ProfileEvents.Values[indexOf(ProfileEvents.Names, 'UserTimeMicroseconds')] + ProfileEvents.Values[indexOf(ProfileEvents.Names, 'SystemTimeMicroseconds')]"
    : "ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds']";
  // `type` was a UInt8 (2 = finished) before it became Enum8('QueryFinish' = 2, ...).
  const finished = oldLog ? "type = 2" : "type = 'QueryFinish'";
  const rs = await env.ch.query({
    // Inlined, not query parameters: 18.16 has none. The ids are the client's UUIDs.
    query: `SELECT count() AS n, sum(${cpu}) AS us FROM system.query_log WHERE ${finished} AND query_id IN (${ids.map((id) => `'${id.replace(/[^0-9a-f-]/gi, "")}'`).join(", ")})`,
    format: "JSONEachRow",
  });
  const [row] = (await rs.json()) as { n: string | number; us: string | number }[];
  if (Number(row?.n) !== ids.length) return NaN;
  return Number(row?.us);
}

// ---------------------------------------------------------------------------------------

interface Sample { format: string; round: number; clientUs: number; serverLogUs: number; serverProcUs: number; wallMs: number; bytes: number }

async function checksum(ch: ClickHouseClient, table: string): Promise<string> {
  // Every column, the nullable ones with a marker for NULL, so a wrong encoding of any
  // column (or a NULL written as a default) changes the sum.
  const rs = await ch.query({
    query: `SELECT count() AS n, toString(sum(cityHash64(event_id, tenant_id, user_id, toUInt32(event_time), url,
      ifNull(referrer, '<null>'), ifNull(toString(duration_ms), '<null>'),
      toUInt32(_ingest_time), _kafka_partition, _kafka_offset, _schema_version))) AS h FROM ${table}`,
    format: "JSONEachRow",
  });
  const [row] = (await rs.json()) as { n: string | number; h: string }[];
  return `${row?.n} rows, hash ${row?.h}`;
}

/**
 * Rows [from, from + count): the same for every format (fixed clock). Made per insert, not
 * all up front: 200k decoded rows held at once made a ~700 MB heap whose GC dominated and
 * blurred the figures; the sink holds one batch at a time too.
 */
function makeRows(sink: CompiledSink, from: number, count: number): DecodedRow[] {
  const now = Date.parse("2026-11-30T00:00:00Z");
  const rows: DecodedRow[] = [];
  for (let i = from; i < from + count; i++) {
    const event = makeEvent("fmt", i, tenantFor(i), EVENT_BYTES, now);
    // A few optional fields absent, so the Nullable paths are in the checksum too.
    if (i % 50 === 0) delete event.duration_ms;
    if (i % 70 === 0) delete event.referrer;
    const out = collectorRecord(event, now + i);
    // Offsets past 2^32 exercise the UInt64 path.
    const d = decodeRecord(sink.stream, { partition: i % 12, offset: 2 ** 33 + i, key: null, value: Buffer.from(String(out.value)), headers: out.headers ?? {}, timestampMs: now });
    if (!d.ok) throw new Error(`bench event ${i} is poison: ${d.poison.reason}`);
    rows.push(d.value);
  }
  return rows;
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const url = process.env.CLICKHOUSE_URL;
  if (!url) throw new Error("CLICKHOUSE_URL is not set: source .testbed/env first");
  const ch = createClient({ url, request_timeout: 60_000 });
  const features = await detectServerFeatures(ch);
  const database = `bench_fmt_${randomBytes(4).toString("hex")}`;
  const base = benchPipeline(`fmt-${randomBytes(3).toString("hex")}`, database, "t").sink;
  const env: Env = {
    ch, sink: base, features,
    keyColumns: new Set(base.orderBy),
    rbColumns: rowBinaryColumns(base, features),
    columnList: desiredColumns(base, features).map(([n]) => ident(n)).join(", "),
  };
  const pid = serverPid(url);
  console.log(`ClickHouse ${features.version.text}; ${ROWS} rows of ~${EVENT_BYTES} B in inserts of ${BATCH}, ${ROUNDS} rounds; server pid ${pid ?? "unknown (no /proc figure)"}`);
  const batch = (i: number) => makeRows(base, i, Math.min(BATCH, ROWS - i));
  const columns = desiredColumns(base, features).map(([n, t]) => `${n} ${t}`).join(", ");
  // The straight-line encoder knows only the DateTime (pre-20.1) table.
  const names = Object.keys(FORMATS).filter((f) => f !== "rowbinary-fixed" || columns === CLICKSTREAM_DATETIME_COLUMNS);
  console.log(`${columns}\nformats: ${names.join(", ")}`);
  const samples: Sample[] = [];
  const sums = new Map<string, string>();
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  try {
    const run = async (format: string, round: number, n: number): Promise<Sample> => {
      const name = `${format.replace("-", "_")}_${round < 0 ? "warmup" : round}`;
      const table = tableRef({ database, table: name });
      await ch.command({ query: createTableSql({ ...base, table: name }, features) });
      const insert = FORMATS[format]!;
      const ids: string[] = [];
      let bytes = 0;
      let clientUs = 0;
      let serverProcUs = 0;
      let wallMs = 0;
      // Only encode + insert is timed; making the rows and a GC (so their garbage is not
      // billed to the insert) happen between the windows.
      for (let i = 0; i < n; i += BATCH) {
        const rows = batch(i);
        gc();
        const proc0 = procCpuMicros(pid);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const r = await insert(env, table, rows);
        wallMs += performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        clientUs += cpu.user + cpu.system;
        serverProcUs += procCpuMicros(pid) - proc0;
        ids.push(r.queryId);
        bytes += r.bytes;
      }
      const sum = await checksum(ch, table);
      const serverLogUs = await queryLogCpuMicros(env, ids);
      await ch.command({ query: `DROP TABLE ${table}` });
      if (round >= 0) {
        const prev = sums.get("all");
        if (prev !== undefined && prev !== sum) throw new Error(`${format} round ${round}: ${sum}, other tables ${prev}`);
        sums.set("all", sum);
      }
      return { format, round, clientUs, serverLogUs, serverProcUs, wallMs, bytes };
    };
    // Encode only, interleaved like the inserts (the first round also warms the encoders up).
    const encodeUs = new Map<string, number[]>();
    for (let round = 0; round <= ROUNDS; round++) {
      for (const f of names.map((_, i) => names[(i + round) % names.length]!)) {
        let us = 0;
        let keep = 0;
        for (let i = 0; i < ROWS; i += BATCH) {
          const rows = batch(i);
          gc();
          const cpu0 = process.cpuUsage();
          keep += ENCODE_ONLY[f]!(env, rows).length;
          const cpu = process.cpuUsage(cpu0);
          us += cpu.user + cpu.system;
        }
        if (keep === 0) throw new Error("nothing encoded");
        if (round > 0) encodeUs.set(f, [...(encodeUs.get(f) ?? []), us / ROWS]);
      }
    }
    for (const f of names) console.log(`encode only ${f.padEnd(15)} ${median(encodeUs.get(f)!).toFixed(2)} µs/row (median of ${ROUNDS}: ${encodeUs.get(f)!.map((x) => x.toFixed(2)).join(", ")})`);
    // Warm-up: JIT and the HTTP agent's sockets, one insert per format, not counted.
    for (const f of names) await run(f, -1, Math.min(BATCH, ROWS));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order so no format always runs first (or right after another's merges).
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      for (const f of order) {
        const s = await run(f, round, ROWS);
        samples.push(s);
        console.log(`round ${round} ${f.padEnd(15)} client ${(s.clientUs / ROWS).toFixed(2)} µs/row, server ${(s.serverLogUs / ROWS).toFixed(2)} (query_log) ${(s.serverProcUs / ROWS).toFixed(2)} (/proc) µs/row, ${s.wallMs.toFixed(0)} ms${s.bytes > 0 ? `, ${(s.bytes / ROWS).toFixed(0)} B/row` : ""}`);
      }
    }
  } finally {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch((e: Error) => console.error(`could not drop ${database}: ${e.message}`));
    await ch.close();
  }
  console.log(`\nall ${names.length * ROUNDS} tables: ${sums.get("all")}`);
  // Ratios against json-objects of the same round, then the median over rounds.
  const ratio = (f: string, key: "clientUs" | "serverLogUs" | "serverProcUs" | "wallMs") =>
    median(Array.from({ length: ROUNDS }, (_, r) => {
      const a = samples.find((s) => s.format === f && s.round === r)!;
      const b = samples.find((s) => s.format === "json-objects" && s.round === r)!;
      return a[key] / b[key];
    }));
  const per = (f: string, key: "clientUs" | "serverLogUs" | "serverProcUs") => median(samples.filter((s) => s.format === f).map((s) => s[key] / ROWS));
  console.log(`\nmedian of ${ROUNDS} rounds; ratio = this format / json-objects in the same round`);
  console.log("format           client µs/row   server µs/row, query_log   server µs/row, /proc   wall");
  for (const f of names) {
    const wall = median(samples.filter((s) => s.format === f).map((s) => s.wallMs));
    const cell = (key: "clientUs" | "serverLogUs" | "serverProcUs", width: number) => `${per(f, key).toFixed(2)} (${ratio(f, key).toFixed(2)}x)`.padEnd(width);
    console.log(`${f.padEnd(16)} ${cell("clientUs", 15)} ${cell("serverLogUs", 26)} ${cell("serverProcUs", 22)} ${wall.toFixed(0)} ms (${ratio(f, "wallMs").toFixed(2)}x)`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
