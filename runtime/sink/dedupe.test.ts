import { describe, expect, it } from "vitest";
import { dedupeByEventId } from "./dedupe.js";

describe("dedupeByEventId", () => {
  it("keeps the first occurrence of each id, in order, and counts the rest", () => {
    const rows = [{ eventId: "a", o: 1 }, { eventId: "b", o: 2 }, { eventId: "a", o: 3 }, { eventId: "a", o: 4 }];
    const { unique, dropped } = dedupeByEventId(rows);
    expect(unique).toEqual([{ eventId: "a", o: 1 }, { eventId: "b", o: 2 }]);
    expect(dropped).toBe(2);
  });
  it("leaves a batch without duplicates alone", () => {
    expect(dedupeByEventId([{ eventId: "x" }, { eventId: "y" }]).dropped).toBe(0);
  });
});
