import { describe, expect, it } from "vitest";
import { seeded } from "../test/support/seeded.js";
import { v7 as uuidv7 } from "uuid";
import { loadPipeline } from "../runtime/pipeline/load.js";
import { checkEvent } from "../runtime/events/check-event.js";
import { generateEvents } from "./send-generate.js";

describe("events generated from a stream's schema", () => {
  for (const dir of ["clickstream", "ad-clicks", "audit-log", "delivery"]) {
    it(`are accepted by the collector's own check, for every stream of examples/${dir}`, () => {
      const pipeline = loadPipeline([`examples/${dir}`], "gen");
      expect(pipeline.streams.length).toBeGreaterThan(0);
      for (const stream of pipeline.streams) {
        const events = generateEvents(stream, 200, { tenant: "shop-a", now: () => Date.parse("2026-11-29T12:00:00Z"), newId: uuidv7, random: seeded(7) });
        for (const e of events) expect(checkEvent(stream, e.event), `${stream.name}: ${JSON.stringify(e.event)}`).toMatchObject({ ok: true });
        const ids = events.map((e) => (e.event as Record<string, unknown>)[stream.keys.eventId]);
        expect(new Set(ids).size).toBe(200);
        if (stream.keys.tenant) expect(events.every((e) => (e.event as Record<string, unknown>)[stream.keys.tenant!] === "shop-a")).toBe(true);
        // Spread over many partition keys, as real traffic is.
        expect(new Set(events.map((e) => JSON.stringify((e.event as Record<string, unknown>)[stream.keys.partitionBy]))).size).toBeGreaterThan(20);
      }
    });
  }
});
