import { describe, expect, it } from "vitest";
import { parseStartPosition } from "./start-position.js";

const NOW = Date.parse("2026-11-29T14:00:00Z");

describe("--from", () => {
  it("takes earliest, latest and an offset", () => {
    expect(parseStartPosition("earliest", NOW)).toEqual({ kind: "earliest" });
    expect(parseStartPosition("latest", NOW)).toEqual({ kind: "latest" });
    expect(parseStartPosition("12345678901234567", NOW)).toEqual({ kind: "offset", offset: 12345678901234567n });
  });

  it("takes an ISO time, and a duration as that long ago", () => {
    expect(parseStartPosition("2026-11-29T13:00:00Z", NOW)).toEqual({ kind: "time", ms: NOW - 3_600_000 });
    expect(parseStartPosition("1h30m", NOW)).toEqual({ kind: "time", ms: NOW - 5_400_000 });
  });

  it("refuses anything else as a usage error (exit 2) that lists what it takes", () => {
    for (const bad of ["yesterday", "-1", "2026-13-45", "10 m", ""]) {
      expect(() => parseStartPosition(bad, NOW), bad).toThrow(expect.objectContaining({ exitCode: 2, hint: expect.stringContaining("earliest, latest, an offset") }));
    }
  });
});
