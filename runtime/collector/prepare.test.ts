import { describe, expect, it } from "vitest";
import type { CompiledStream } from "../pipeline/compiled.js";
import { IngestError } from "./errors.js";
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
    expect(JSON.parse(records[0]!.value)).toEqual({ user_id: "u1", event_time: at, extra: true, event_id: "generated-id", tenant_id: "shop-a" });
    expect(records[0]).toMatchObject({ index: 0, tenant: "shop-a", key: "u1" });
  });

  it("keeps an event id the client chose", () => {
    const { records } = prepareEvents(stream, [{ event_id: "mine", user_id: "u1", event_time: at }], ctx);
    expect(JSON.parse(records[0]!.value).event_id).toBe("mine");
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
