import { describe, expect, it } from "vitest";
import type { CompiledStream } from "../pipeline/compiled.js";
import { IngestError } from "./errors.js";
import { parseEvents, type BodyFormat } from "./parse-events.js";
import { prepareEvents } from "./prepare.js";

const stream: Pick<CompiledStream, "name" | "keys" | "schema" | "ingest"> = {
  name: "views",
  schema: {
    version: 3,
    strict: false,
    fields: [
      { name: "event_id", type: "string", required: true },
      { name: "tenant_id", type: "string", required: true },
      { name: "user_id", type: "string", required: true },
      { name: "event_time", type: "timestamp", required: true },
    ],
  },
  keys: { eventId: "event_id", eventTime: "event_time", tenant: "tenant_id", partitionBy: "user_id" },
  ingest: { enabled: true, maxBodyBytes: 1 << 20, maxEventBytes: 200, maxEventsPerRequest: 10 },
};
const at = "2026-11-23T10:00:00Z";
const ctx = { tenant: "shop-a", newEventId: () => "generated-id" };

describe("prepareEvents", () => {
  it("fills a missing event id and the key's tenant, keeping the client's fields", () => {
    const { records, rejected } = prepareEvents(stream, [{ user_id: "u1", event_time: at, extra: true }], ctx);
    expect(rejected).toEqual([]);
    expect(records).toHaveLength(1);
    expect(JSON.parse(records[0]!.value.toString())).toEqual({ user_id: "u1", event_time: at, extra: true, event_id: "generated-id", tenant_id: "shop-a" });
    expect(records[0]).toMatchObject({ index: 0, tenant: "shop-a", key: "u1" });
  });

  it("keeps an event id the client chose", () => {
    const { records } = prepareEvents(stream, [{ event_id: "mine", user_id: "u1", event_time: at }], ctx);
    expect(JSON.parse(records[0]!.value.toString()).event_id).toBe("mine");
  });

  it("accepts the valid events and reports the others by index", () => {
    const { records, rejected } = prepareEvents(stream, [{ user_id: "u1", event_time: at }, { event_time: at }, 42, { user_id: "u2", event_time: at, pad: "x".repeat(300) }], ctx);
    expect(records.map((r) => r.index)).toEqual([0]);
    expect(rejected).toEqual([
      { index: 1, reason: 'missing required field "user_id"' },
      { index: 2, reason: "event is not a JSON object" },
      { index: 3, reason: expect.stringMatching(/^event is \d+ bytes; the limit is 200$/) },
    ]);
  });

  it("refuses the whole request when one event names another tenant", () => {
    let err: unknown;
    try {
      prepareEvents(stream, [{ user_id: "u1", event_time: at }, { user_id: "u2", event_time: at, tenant_id: "shop-b" }], ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IngestError);
    expect((err as IngestError).status).toBe(403);
    expect((err as IngestError).message).toMatch(/event 1 has tenant_id="shop-b"/);
  });

  it.each([
    ["a number", 42, "42"],
    ["an empty string", "", '""'],
    ["an object", { id: "shop-a" }, '{"id":"shop-a"}'],
  ])("rejects only the event whose tenant field is %s, naming the field and the expected type", (_what, tenant, shown) => {
    const { records, rejected } = prepareEvents(stream, [{ user_id: "u1", event_time: at }, { user_id: "u2", event_time: at, tenant_id: tenant }], ctx);
    expect(records.map((r) => r.index)).toEqual([0]);
    expect(rejected).toEqual([{ index: 1, reason: `field "tenant_id" must be a non-empty string (a tenant id), got ${shown}` }]);
  });

  it("accepts an event naming the key's own tenant", () => {
    const { records, rejected } = prepareEvents(stream, [{ user_id: "u1", event_time: at, tenant_id: "shop-a" }], ctx);
    expect(rejected).toEqual([]);
    expect(records[0]!.tenant).toBe("shop-a");
  });

  it("without auth, takes the tenant from each event", () => {
    const { records } = prepareEvents(stream, [{ user_id: "u1", event_time: at, tenant_id: "t9" }], { newEventId: () => "id" });
    expect(records[0]!.tenant).toBe("t9");
  });
});

describe("prepareEvents with the events' source bytes", () => {
  const roomy = { ...stream, ingest: { ...stream.ingest, maxEventBytes: 65_536 } };
  const prepare = (text: string, format: BodyFormat = "json", s = roomy, c: { tenant?: string; newEventId: () => string } = ctx) => {
    const parsed = parseEvents(Buffer.from(text), format, 10);
    return prepareEvents(s, parsed.events, c, parsed);
  };
  const shown = (v: Buffer | string) => (typeof v === "string" ? `string ${v}` : `bytes ${v.toString()}`);

  it("produces an event that needs nothing filled as the bytes the client sent, whitespace and all", () => {
    const own = `{ "event_id": "e1",\t"tenant_id":"shop-a", "user_id": "u1","event_time":"${at}", "n": 1.50, "s": "caf\\u00e9" }`;
    const { records } = prepare(`[\n  ${own} ,\n  ${own}\n]`);
    expect(records.map((r) => shown(r.value))).toEqual([`bytes ${own}`, `bytes ${own}`]);
    expect(records[0]).toMatchObject({ tenant: "shop-a", key: "u1", bytes: Buffer.byteLength(own) });
    expect(prepare(`${own}\r\n${own}`, "ndjson").records.map((r) => shown(r.value))).toEqual([`bytes ${own}`, `bytes ${own}`]);
  });

  it("without auth, keeps the bytes of an event carrying its own tenant", () => {
    const own = `{"event_id":"e1","tenant_id":"t9","user_id":"u1","event_time":"${at}"}`;
    expect(prepare(`[${own}]`, "json", roomy, { newEventId: () => "id" }).records.map((r) => shown(r.value))).toEqual([`bytes ${own}`]);
  });

  it("writes an absent event id or tenant before the client's fields", () => {
    const rest = `"user_id":"u1", "event_time":"${at}"`;
    const { records } = prepare(`[{"tenant_id":"shop-a",${rest}}, {"event_id":"e2",${rest}}, {${rest}}]`);
    expect(records.map((r) => shown(r.value))).toEqual([
      `bytes {"event_id":"generated-id","tenant_id":"shop-a",${rest}}`,
      `bytes {"tenant_id":"shop-a","event_id":"e2",${rest}}`,
      `bytes {"event_id":"generated-id","tenant_id":"shop-a",${rest}}`,
    ]);
    expect(records.map((r) => r.bytes)).toEqual(records.map((r) => r.value.length));
  });

  it.each([
    ["a null event id", `{"event_id":null,"tenant_id":"shop-a","user_id":"u1","event_time":"${at}"}`],
    ["a null tenant", `{"event_id":"e1","tenant_id":null,"user_id":"u1","event_time":"${at}"}`],
    ["a null id that a later duplicate key does not overwrite", `{"event_id":"e1","event_id":null,"tenant_id":"shop-a","user_id":"u1","event_time":"${at}"}`],
  ])("stringifies an event with %s, which a filled field could not override", (_what, text) => {
    const { records } = prepare(`[${text}]`);
    expect(typeof records[0]!.value).toBe("string");
    expect(JSON.parse(records[0]!.value.toString())).toMatchObject({ event_id: expect.any(String), tenant_id: "shop-a" });
  });

  it("keeps the last of duplicate keys, as JSON.parse in the sink does", () => {
    const text = `{"event_id":null,"event_id":"e1","tenant_id":"shop-a","user_id":"u0","user_id":"u1","event_time":"${at}"}`;
    const { records } = prepare(`[${text}]`);
    expect(shown(records[0]!.value)).toBe(`bytes ${text}`);
    expect(records[0]!.key).toBe("u1");
  });

  it("stringifies an event whose source is within 6x of the limit, so the limit decides as before", () => {
    // 94 bytes as sent, 111 stringified (1e20 is written out in full): under a limit of 94
    // the raw length alone would accept what the stringified length always rejected.
    const text = `{"event_id":"e1","tenant_id":"t9","user_id":"u1","event_time":"${at}","n":1e20}`;
    const limit = (maxEventBytes: number) => ({ ...roomy, ingest: { ...roomy.ingest, maxEventBytes } });
    const rec = (max: number) => prepare(`[${text}]`, "json", limit(max), { newEventId: () => "id" });
    expect(shown(rec(6 * text.length).records[0]!.value)).toBe(`bytes ${text}`);
    expect(rec(6 * text.length - 1).records[0]!.value).toBe(JSON.stringify(JSON.parse(text)));
    expect(rec(text.length).rejected).toEqual([{ index: 0, reason: `event is ${JSON.stringify(JSON.parse(text)).length} bytes; the limit is ${text.length}` }]);
  });

  it("copies the values out of a body they would hold mostly for nothing", () => {
    const own = `{"event_id":"e1","tenant_id":"t9","user_id":"u1","event_time":"${at}"}`;
    const body = `[${own}, ${"9,".repeat(200)} 9]`;
    const parsed = parseEvents(Buffer.from(body), "json", 1000);
    const { records } = prepareEvents(roomy, parsed.events, { newEventId: () => "id" }, parsed);
    expect(shown(records[0]!.value)).toBe(`bytes ${own}`);
    expect((records[0]!.value as Buffer).buffer).not.toBe(parsed.body.buffer);
    const kept = parseEvents(Buffer.from(`[${own}]`), "json", 10);
    expect((prepareEvents(roomy, kept.events, { newEventId: () => "id" }, kept).records[0]!.value as Buffer).buffer).toBe(kept.body.buffer);
  });
});
