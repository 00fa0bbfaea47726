import { describe, expect, it } from "vitest";
import { IngestError } from "./errors.js";
import { jsonErrorOffset, positionOf } from "./json-error.js";
import { bodyFormat, parseEvents } from "./parse-events.js";

function refusal(f: () => unknown): IngestError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(IngestError);
    return err as IngestError;
  }
  throw new Error("expected a refusal");
}

describe("parseEvents", () => {
  it("reads a JSON array and NDJSON alike", () => {
    expect(parseEvents(Buffer.from('[{"a":1},{"a":2}]'), "json", 10).events).toEqual([{ a: 1 }, { a: 2 }]);
    expect(parseEvents(Buffer.from('{"a":1}\r\n\n{"a":2}\n'), "ndjson", 10).events).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it("picks NDJSON from the Content-Type, JSON otherwise", () => {
    expect(bodyFormat("application/x-ndjson; charset=utf-8")).toBe("ndjson");
    expect(bodyFormat("application/json")).toBe("json");
    expect(bodyFormat(undefined)).toBe("json");
  });

  it("names the line and column of a JSON syntax error", () => {
    const err = refusal(() => parseEvents(Buffer.from('[\n  {"a": 1},\n  {"a": }\n]'), "json", 10));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/line 3, column 9/);
  });

  it("names the NDJSON line that is not JSON", () => {
    const err = refusal(() => parseEvents(Buffer.from('{"a":1}\n{"a":1}\n{"a":,}\n'), "ndjson", 10));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^line 3, column 6/);
  });

  it("refuses a body that is JSON but not an array", () => {
    expect(refusal(() => parseEvents(Buffer.from('{"a":1}'), "json", 10)).message).toMatch(/must be a JSON array/);
  });

  it("refuses more events than the per-request limit with 413", () => {
    expect(refusal(() => parseEvents(Buffer.from("[{},{},{}]"), "json", 2)).status).toBe(413);
    expect(refusal(() => parseEvents(Buffer.from("{}\n{}\n{}\n"), "ndjson", 2)).status).toBe(413);
  });

  it("refuses bytes that are not UTF-8", () => {
    expect(refusal(() => parseEvents(Buffer.from([0x5b, 0xff, 0x5d]), "json", 2)).message).toMatch(/UTF-8/);
  });
});

describe("parseEvents source ranges", () => {
  /** Each event's source text, as the ranges say. */
  function sources(text: string | Buffer, format: "json" | "ndjson"): string[] {
    const parsed = parseEvents(Buffer.isBuffer(text) ? text : Buffer.from(text), format, 100);
    expect(parsed.ranges).toHaveLength(parsed.events.length);
    const found = parsed.ranges.map((r) => parsed.body.subarray(r.start, r.end).toString());
    found.forEach((t, i) => expect(JSON.parse(t)).toEqual(parsed.events[i]));
    return found;
  }

  it("finds each element of an array, nested arrays and objects included", () => {
    expect(sources('[{"a":[1,[2,{"b":[]}]]},[{}],{},[],"s",1,true,null]', "json")).toEqual(['{"a":[1,[2,{"b":[]}]]}', "[{}]", "{}", "[]", '"s"', "1", "true", "null"]);
    expect(sources("[]", "json")).toEqual([]);
    expect(sources(" [ ] ", "json")).toEqual([]);
  });

  it("is not misled by brackets, commas, quotes and backslashes inside strings", () => {
    const elements = ['{"a":"]"}', '{"a":",,","b":"}{"}', '{"a\\\\":"x\\\\"}', '{"q":"say \\"hi\\", ] ok"}', '"\\\\"', '{"e":"\\\\\\"]"}', '{"u":"\\u005d\\n\\t\\/"}'];
    expect(sources(`[${elements.join(",")}]`, "json")).toEqual(elements);
  });

  it("counts bytes, not characters, past multi-byte UTF-8", () => {
    const elements = ['{"name":"Zoë ✓ 😀 日本"}', '{"k😀":"]"}', '{"x":1}'];
    expect(sources(`[${elements.join(",")}]`, "json")).toEqual(elements);
    expect(sources(elements.join("\n"), "ndjson")).toEqual(elements);
  });

  it("leaves out the whitespace around elements of a pretty-printed body and keeps the one inside", () => {
    const events = [{ a: [1, { b: "c, ]" }] }, { d: null }];
    const pretty = JSON.stringify(events, null, 2);
    expect(sources(` \r\n\t${pretty}\n`, "json")).toEqual(['{\n    "a": [\n      1,\n      {\n        "b": "c, ]"\n      }\n    ]\n  }', '{\n    "d": null\n  }']);
  });

  it("finds NDJSON lines without CR, surrounding blanks or blank lines", () => {
    expect(sources('{"a":1}\r\n\r\n  {"a": 2 }\t\r\n\n\n{"b":"x\\r"}', "ndjson")).toEqual(['{"a":1}', '{"a": 2 }', '{"b":"x\\r"}']);
    expect(sources(' \u00a0 \n{"a":1}\n', "ndjson")).toEqual(['{"a":1}']);
  });

  it("starts its offsets after a byte order mark", () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(sources(Buffer.concat([bom, Buffer.from('[{"a":1}, 2]')]), "json")).toEqual(['{"a":1}', "2"]);
    expect(sources(Buffer.concat([bom, Buffer.from('{"a":1}\n{"b":2}')]), "ndjson")).toEqual(['{"a":1}', '{"b":2}']);
  });
});

describe("jsonErrorOffset", () => {
  it.each([
    ['{"a":1}', undefined],
    ['[1, -2.5e3, "x\\u00e9\\n", true, false, null, {}, [], {"k": [{}]}]', undefined],
    ["[1,2,]", 5],
    ['{"a":}', 5],
    ['{"a" 1}', 5],
    ["[1 2]", 3],
    ['["a\\x"]', 4],
    ["[01]", 2],
    ["[1]x", 3],
    ["", 0],
  ])("finds the error in %j at %j", (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
    if (offset === undefined) expect(() => JSON.parse(text)).not.toThrow();
    else expect(() => JSON.parse(text)).toThrow();
  });

  it("survives deep nesting without overflowing the stack", () => {
    expect(jsonErrorOffset("[".repeat(100_000))).toBe(100_000);
  });

  it("turns an offset into a line and column", () => {
    expect(positionOf("ab\ncd\nef", 7)).toEqual({ offset: 7, line: 3, column: 2 });
  });
});
