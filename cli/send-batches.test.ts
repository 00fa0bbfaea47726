import { describe, expect, it } from "vitest";
import { sendAll, type SendTarget } from "./send-batches.js";
import { parseEvents, withEventIds } from "./send-input.js";

const target: SendTarget = { url: "http://collector", stream: "views", apiKey: "k", batchSize: 2, retries: 3 };
const events = (n: number) => Array.from({ length: n }, (_, i) => ({ event: { event_id: `e${i}`, n: i }, where: `line ${i + 1}` }));

/** A collector answering from a script, recording each request's events. */
function collector(answers: ((events: { event_id: string }[]) => Response)[]) {
  const bodies: { event_id: string }[][] = [];
  const fake = (async (_url: string, init: RequestInit) => {
    const sent = JSON.parse(init.body as string) as { event_id: string }[];
    bodies.push(sent);
    const answer = answers.shift() ?? ((e: unknown[]) => Response.json({ accepted: e.length, rejected: [] }));
    return answer(sent);
  }) as unknown as typeof fetch;
  return { fetch: fake, bodies, sleeps: [] as number[] };
}

const deps = (c: ReturnType<typeof collector>) => ({ fetch: c.fetch, sleep: async (ms: number) => void c.sleeps.push(ms) });

describe("sending events in batches", () => {
  it("when the collector answers 503, it sends the same events with the same ids again after Retry-After", async () => {
    const c = collector([() => new Response(JSON.stringify({ error: "Kafka did not acknowledge" }), { status: 503, headers: { "retry-after": "2" } })]);
    const summary = await sendAll(events(3), target, deps(c));
    expect(c.bodies.map((b) => b.map((e) => e.event_id))).toEqual([["e0", "e1"], ["e0", "e1"], ["e2"]]);
    expect(c.sleeps).toEqual([2_000]);
    expect(summary).toMatchObject({ sent: 3, accepted: 3, retried: 2, retriedRequests: 1, rejected: [], undelivered: [] });
  });

  it("reports rejected events by their place in the input, with the collector's reason", async () => {
    const c = collector([() => Response.json({ accepted: 2, rejected: [] }), () => Response.json({ accepted: 0, rejected: [{ index: 0, reason: "user_id: required" }], error: "every event was invalid" }, { status: 400 })]);
    const summary = await sendAll(events(3), target, deps(c));
    expect(summary.accepted).toBe(2);
    expect(summary.rejected).toEqual([{ index: 2, where: "line 3", reason: "user_id: required" }]);
  });

  it("halves a batch the collector finds too large (413), down to single events", async () => {
    const c = collector([() => new Response("{}", { status: 413 })]);
    const summary = await sendAll(events(2), { ...target, batchSize: 2 }, deps(c));
    expect(c.bodies.map((b) => b.length)).toEqual([2, 1, 1]);
    expect(summary).toMatchObject({ sent: 2, accepted: 2, retried: 0 });
  });

  it("gives up on a batch after its retries and counts its events as not delivered", async () => {
    const down = () => new Response("{}", { status: 503 });
    const c = collector([down, down, down, down]);
    const summary = await sendAll(events(2), target, deps(c));
    expect(summary.undelivered.map((u) => u.where)).toEqual(["line 1", "line 2"]);
    expect(summary.undelivered[0]!.reason).toMatch(/^503: .*\(gave up after 4 attempts\)$/);
    expect(c.sleeps).toEqual([200, 400, 800]);
  });

  it("stops at a 401 with a hint: no retry can fix a wrong key", async () => {
    const c = collector([() => Response.json({ error: "invalid API key" }, { status: 401 })]);
    await expect(sendAll(events(2), target, deps(c))).rejects.toMatchObject({ message: "the collector refused the events: 401 invalid API key", hint: expect.stringContaining("--key"), exitCode: 1 });
  });
});

describe("reading the events to send", () => {
  it("reads NDJSON, a JSON array and a single object, noting where each event is", () => {
    expect(parseEvents('{"a":1}\n\n{"a":2}\n', "f")).toEqual([{ event: { a: 1 }, where: "line 1" }, { event: { a: 2 }, where: "line 3" }]);
    expect(parseEvents('[{"a":1},\n {"a":2}]', "f").map((e) => e.where)).toEqual(["item 1", "item 2"]);
    expect(parseEvents('{"a":1}', "f")).toEqual([{ event: { a: 1 }, where: "line 1" }]);
  });

  it("names the line that is not JSON, as a usage error", () => {
    expect(() => parseEvents('{"a":1}\n{"a":\n', "views.ndjson")).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringContaining("views.ndjson line 2: not JSON") }));
  });

  it("fills missing ids once, before any attempt, and keeps the ids given", () => {
    let n = 0;
    const filled = withEventIds([{ event: { event_id: "mine" }, where: "line 1" }, { event: { x: 1 }, where: "line 2" }, { event: 42, where: "line 3" }], "event_id", () => `new${++n}`);
    expect(filled.map((e) => e.event)).toEqual([{ event_id: "mine" }, { x: 1, event_id: "new1" }, 42]);
  });
});

describe("sending at a rate", () => {
  it("spaces the batches so the events leave at the rate on average, catching up after a slow answer", async () => {
    let clock = 0;
    const c = collector([]);
    const sleeps: number[] = [];
    const paced = { ...target, batchSize: 10, ratePerSecond: 100 };
    // The third request takes 250 ms to answer; the others none.
    let requests = 0;
    const slowFetch = (async (url: string, init: RequestInit) => {
      if (++requests === 3) clock += 250;
      return c.fetch(url, init);
    }) as unknown as typeof fetch;
    const summary = await sendAll(events(50), paced, { fetch: slowFetch, now: () => clock, sleep: async (ms) => void (sleeps.push(ms), (clock += ms)) });
    expect(summary.accepted).toBe(50);
    // Batch k is due at k * 100 ms. The third (due at 200) is answered at 450: the fourth
    // and fifth (due at 300 and 400) are late already and leave at once.
    expect(sleeps).toEqual([100, 100]);
    expect(clock).toBe(450);
  });

  it("stamps each batch just before its first attempt, and retries send what was stamped", async () => {
    const c = collector([() => new Response("{}", { status: 503 })]);
    const stamps: number[] = [];
    let n = 0;
    await sendAll(events(3), target, { ...deps(c), beforeFirstAttempt: (all, start, count) => {
      stamps.push(start);
      for (const e of all.slice(start, start + count)) (e.event as Record<string, unknown>).stamp = ++n;
    } });
    expect(stamps).toEqual([0, 2]);
    expect(c.bodies.map((b) => b.map((e) => (e as unknown as { stamp: number }).stamp))).toEqual([[1, 2], [1, 2], [3]]);
  });
});
