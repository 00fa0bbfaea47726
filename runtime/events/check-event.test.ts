import { describe, expect, it } from "vitest";
import { checkEvent } from "./check-event.js";
import type { CompiledStream } from "../pipeline/compiled.js";

const stream: Pick<CompiledStream, "schema" | "keys"> = {
  schema: {
    version: 1,
    strict: false,
    fields: [
      { name: "id", type: "string", required: true },
      { name: "at", type: "timestamp", required: true },
      { name: "n", type: "int32", required: false },
      { name: "big", type: "int64", required: false },
      { name: "ok", type: "boolean", required: false },
      { name: "u", type: "uuid", required: false },
    ],
  },
  keys: { eventId: "id", eventTime: "at", partitionBy: "id" },
};

describe("checkEvent", () => {
  it("normalises RFC 3339 and epoch-millisecond timestamps to the same instant", () => {
    const a = checkEvent(stream, { id: "1", at: "2026-01-02T03:04:05.678Z" });
    const b = checkEvent(stream, { id: "1", at: Date.parse("2026-01-02T03:04:05.678Z") });
    expect(a).toMatchObject({ ok: true, eventTimeMs: 1767323045678 });
    expect(b).toEqual(a);
  });

  it("fills absent optional fields with null and ignores unknown ones", () => {
    expect(checkEvent(stream, { id: "1", at: 1767323045678, extra: 1 })).toMatchObject({ ok: true, row: { n: null, big: null, u: null } });
  });

  it.each([
    [{ at: 1767323045678 }, /missing required field "id"/],
    [{ id: "1", at: "yesterday" }, /field "at" must be an RFC 3339 timestamp/],
    [{ id: "1", at: 1767323045 }, /field "at" must be an RFC 3339 timestamp or epoch milliseconds/],
    [{ id: "1", at: 1767323045678, n: 2 ** 31 }, /field "n" must be a 32-bit integer/],
    [{ id: "1", at: 1767323045678, n: 1.5 }, /field "n" must be a 32-bit integer/],
    [{ id: "1", at: 1767323045678, big: "99999999999999999999" }, /field "big" must be a 64-bit integer/],
    [{ id: "1", at: 1767323045678, ok: "true" }, /field "ok" must be true or false/],
    [{ id: "1", at: 1767323045678, u: "not-a-uuid" }, /field "u" must be a UUID/],
    [[1, 2], /not a JSON object/],
    ["text", /not a JSON object/],
  ])("rejects %j", (event, reason) => {
    const r = checkEvent(stream, event);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.reason).toMatch(reason);
  });

  it("keeps int64 values beyond 2^53 exact, as strings", () => {
    expect(checkEvent(stream, { id: "1", at: 1767323045678, big: "9223372036854775807" })).toMatchObject({ ok: true, row: { big: "9223372036854775807" } });
  });

  it("rejects unknown fields when the schema is strict", () => {
    const strict = { ...stream, schema: { ...stream.schema, strict: true } };
    expect(checkEvent(strict, { id: "1", at: 1767323045678, extra: 1 })).toMatchObject({ ok: false, field: "extra" });
  });
});
