import { describe, expect, it } from "vitest";
import { loadPipeline } from "../pipeline/load.js";
import { parseVersion, serverFeatures } from "../clickhouse/server-version.js";
import { decodeRecord, type SourceRecord } from "./decode.js";
import { encodeRow } from "./encode-row.js";

const stream = loadPipeline(["examples/clickstream"]).streams[0]!;
const event = { event_id: "e1", tenant_id: "t", user_id: "u", event_time: "2026-11-23T10:00:00.123Z", url: "/", extra: 1 };
const record = (value: string | null, headers: Record<string, string> = {}): SourceRecord => ({
  partition: 2, offset: 7, key: Buffer.from("u"), value: value === null ? null : Buffer.from(value), headers, timestampMs: 1_795_000_000_000,
});

describe("decodeRecord", () => {
  it("decodes a collector record, tolerating unknown fields, with the collector's ingest time", () => {
    const d = decodeRecord(stream, record(JSON.stringify(event), { "sluice-ingest-time": "1795000000500", "sluice-schema-version": "1" }));
    expect(d.ok && d.value).toMatchObject({ eventId: "e1", eventTimeMs: Date.parse(event.event_time), ingestTimeMs: 1795000000500, schemaVersion: 1 });
  });
  it("falls back to the Kafka timestamp and the stream's schema version without headers (kcat)", () => {
    const d = decodeRecord(stream, record(JSON.stringify(event)));
    expect(d.ok && d.value).toMatchObject({ ingestTimeMs: 1_795_000_000_000, schemaVersion: 1 });
  });
  it("calls undecodable JSON, wrong types and empty values poison", () => {
    expect(decodeRecord(stream, record("{nope"))).toMatchObject({ ok: false, poison: { reason: expect.stringMatching(/not valid JSON/) } });
    expect(decodeRecord(stream, record(JSON.stringify({ ...event, duration_ms: "long" })))).toMatchObject({ ok: false, poison: { field: "duration_ms" } });
    expect(decodeRecord(stream, record(null))).toMatchObject({ ok: false, poison: { reason: "record has no value" } });
  });
});

describe("encodeRow", () => {
  const d = decodeRecord(stream, record(JSON.stringify(event)));
  if (!d.ok) throw new Error("fixture must decode");
  const keys = new Set(["tenant_id", "event_time", "event_id"]);
  it("sends epoch seconds for DateTime on old servers", () => {
    expect(encodeRow(stream, keys, d.value, serverFeatures(parseVersion("18.16.1")))).toMatchObject({
      event_time: Math.floor(Date.parse(event.event_time) / 1000), referrer: null, _kafka_partition: 2, _kafka_offset: 7, _schema_version: 1,
    });
  });
  it("sends millisecond text for DateTime64 on current servers", () => {
    expect(encodeRow(stream, keys, d.value, serverFeatures(parseVersion("25.8")))).toMatchObject({ event_time: "2026-11-23 10:00:00.123" });
  });
});
