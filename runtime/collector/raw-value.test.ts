import { describe, expect, it } from "vitest";
import type { CompiledStream } from "../pipeline/compiled.js";
import { parseEvents, type BodyFormat } from "./parse-events.js";
import { prepareEvents, type PreparedBatch } from "./prepare.js";

/**
 * The property the raw values rest on: for any body, prepareEvents with the events' source
 * bytes accepts and rejects exactly what it does without them (every value stringified),
 * and each value JSON.parses to what the stringified one parses to.
 */

const schema: CompiledStream["schema"] = {
  version: 1,
  strict: false,
  fields: [
    { name: "event_id", type: "string", required: true },
    { name: "tenant_id", type: "string", required: true },
    { name: "user_id", type: "string", required: true },
    { name: "event_time", type: "timestamp", required: true },
    { name: "score", type: "float64", required: false },
  ],
};
const keys = { eventId: "event_id", eventTime: "event_time", tenant: "tenant_id", partitionBy: "user_id" };

/** mulberry32: a seeded generator, so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(
    private readonly rnd: () => number,
    /** NDJSON lines may not hold a newline between tokens. */
    private readonly newlines: boolean,
  ) {}
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  ws(): string {
    if (this.rnd() < 0.6) return "";
    const chars = this.newlines ? [" ", "\t", "\r", "\n", "  "] : [" ", "\t", "\r", "  "];
    let s = "";
    for (let i = this.int(3) + 1; i > 0; i--) s += this.pick(chars);
    return s;
  }
  string(): string {
    const parts = ["a", "Zoë", "✓", "😀", "日本", "]", "[", ",", "{", "}", ":", '\\"', "\\\\", "\\/", "\\n", "\\t", "\\u00e9", "\\u005d", "\\ud83d\\ude00", "\\ud800", "\\u0001", "\\b", " ", "\u2028"];
    let s = '"';
    for (let i = this.int(6); i > 0; i--) s += this.pick(parts);
    return s + '"';
  }
  number(): string {
    // No -0 and nothing beyond the float range: those are the values JSON cannot say the
    // same twice (raw-value.ts), tested on their own below.
    const digits = () => String(1 + this.int(9)) + String(this.int(1000)).slice(0, this.int(4));
    const forms = [() => "0", () => digits(), () => `-${digits()}`, () => `${digits()}.${this.int(100)}0`, () => `-0.${this.int(9)}1`, () => `${digits()}e${this.int(25)}`, () => `${this.int(9) + 1}E-${this.int(9)}`, () => `1.5e+${this.int(300)}`, () => "0e5", () => "12345678901234567890123"];
    return this.pick(forms)();
  }
  value(depth: number): string {
    const r = this.rnd();
    if (depth > 3 || r < 0.3) return this.pick([() => this.string(), () => this.number(), () => this.pick(["true", "false", "null"])])();
    if (r < 0.6) return this.array(depth + 1);
    return this.object(depth + 1, []);
  }
  array(depth: number): string {
    const items = Array.from({ length: this.int(4) }, () => this.ws() + this.value(depth) + this.ws());
    return `[${items.join(",")}${items.length === 0 ? this.ws() : ""}]`;
  }
  object(depth: number, members: string[]): string {
    const all = [...members];
    for (let i = this.int(4); i > 0; i--) all.splice(this.int(all.length + 1), 0, `${this.pick(['"k"', '"k"', '"x]"', '"😀"', '"__proto__"', this.string()])}${this.ws()}:${this.ws()}${this.value(depth)}`);
    const body = all.map((m) => this.ws() + m + this.ws()).join(",");
    return `{${body}${all.length === 0 ? this.ws() : ""}}`;
  }
  /** An event: the schema's fields present, absent, null, duplicated or of the wrong type. */
  event(): string {
    const r = this.rnd();
    if (r < 0.04) return this.pick(["42", '"x"', "null", "[]", "{}", `[${this.value(0)}]`]);
    const members: string[] = [];
    const maybe = (field: string, values: readonly string[]) => {
      for (let n = this.rnd() < 0.1 ? 2 : 1; n > 0; n--) if (this.rnd() < 0.9) members.push(`"${field}":${this.pick(values)}`);
    };
    maybe("event_id", ['"e-1"', '"e-1"', '"e-1"', '"e\\u00e9"', "null", "7", '""']);
    maybe("tenant_id", ['"shop-a"', '"shop-a"', '"shop-a"', "null", '""', "42"]);
    maybe("user_id", ['"u1"', '"u1"', '"u1"', '"ü\\"]"', "null", "3"]);
    maybe("event_time", ['"2026-11-23T10:00:00Z"', '"2026-11-23T10:00:00Z"', "1795000000000", "1.795e12", "1795000000000", '"soon"']);
    maybe("score", ["1", "-2.5", "1e20", "1e-7", "0.5", "3", '"x"', "null"]);
    return this.object(1, members);
  }
}

function body(gen: Gen, format: BodyFormat): string {
  const events = Array.from({ length: gen.int(6) + 1 }, () => gen.event());
  if (format === "ndjson") return events.map((e) => gen.ws() + e + gen.ws()).join(gen.pick(["\n", "\r\n", "\n\n", "\n \n"]));
  return `${gen.ws()}[${events.map((e) => gen.ws() + e + gen.ws()).join(",")}]${gen.ws()}`;
}

type Outcome = { thrown: string } | PreparedBatch;

function run(f: () => PreparedBatch): Outcome {
  try {
    return f();
  } catch (err) {
    return { thrown: (err as Error).message };
  }
}

describe("raw values, property", () => {
  it("accept, reject and parse exactly like stringified values, over random bodies", () => {
    const rnd = random(20261130);
    let raw = 0;
    let total = 0;
    for (let round = 0; round < 3000; round++) {
      const format: BodyFormat = rnd() < 0.5 ? "json" : "ndjson";
      const gen = new Gen(rnd, format === "json");
      const text = body(gen, format);
      const parsed = parseEvents(Buffer.from(text), format, 100);
      expect(parsed.ranges.length, text).toBe(parsed.events.length);
      parsed.ranges.forEach((r, i) => expect(JSON.parse(parsed.body.subarray(r.start, r.end).toString()), text).toEqual(parsed.events[i]));
      const maxEventBytes = gen.pick([40, 120, 200, 400, 600, 900, 2000, 65_536, 65_536]);
      const stream = { name: "s", schema, keys, ingest: { enabled: true, maxBodyBytes: 1 << 20, maxEventBytes, maxEventsPerRequest: 100 } };
      const tenant = rnd() < 0.7 ? "shop-a" : undefined;
      const ctx = () => {
        let n = 0;
        return { tenant, newEventId: () => `gen-${n++}` };
      };
      const before = run(() => prepareEvents(stream, parsed.events, ctx()));
      const now = run(() => prepareEvents(stream, parsed.events, ctx(), parsed));
      if ("thrown" in before || "thrown" in now) {
        expect(now, text).toEqual(before);
        continue;
      }
      expect(now.rejected, text).toEqual(before.rejected);
      expect(now.records.map(({ index, tenant, key }) => ({ index, tenant, key })), text).toEqual(before.records.map(({ index, tenant, key }) => ({ index, tenant, key })));
      now.records.forEach((r, i) => {
        total++;
        if (typeof r.value !== "string") raw++;
        expect(JSON.parse(r.value.toString()), text).toEqual(JSON.parse(before.records[i]!.value.toString()));
        expect(r.bytes).toBe(Buffer.byteLength(r.value));
        expect(r.bytes).toBeLessThanOrEqual(maxEventBytes);
      });
    }
    // Both ways were taken often enough to mean something.
    expect(raw).toBeGreaterThan(300);
    expect(total - raw).toBeGreaterThan(300);
  });

  it("keeps -0 and an out-of-range number as sent: the sink's row is the same, or the event is rejected", () => {
    const stream = { name: "s", schema, keys, ingest: { enabled: true, maxBodyBytes: 1 << 20, maxEventBytes: 65_536, maxEventsPerRequest: 100 } };
    const text = '[{"event_id":"e","tenant_id":"t","user_id":"u","event_time":"2026-11-23T10:00:00Z","score":-0,"extra":1e400},{"event_id":"e","tenant_id":"t","user_id":"u","event_time":"2026-11-23T10:00:00Z","score":1e400}]';
    const parsed = parseEvents(Buffer.from(text), "json", 10);
    const { records, rejected } = prepareEvents(stream, parsed.events, { newEventId: () => "id" }, parsed);
    expect(rejected).toEqual([{ index: 1, reason: 'field "score" must be a finite number, got null' }]);
    const stored = JSON.parse(records[0]!.value.toString());
    expect(Object.is(stored.score, -0)).toBe(true);
    expect(stored.extra).toBe(Infinity);
    // The sink writes rows to ClickHouse as JSON, where -0 is 0 as before.
    expect(JSON.stringify(stored.score)).toBe("0");
  });
});
