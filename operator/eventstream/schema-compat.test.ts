import { describe, expect, it } from "vitest";
import type { CompiledField } from "../../runtime/pipeline/compiled.js";
import { compatibilityIssues, decideSchema } from "./schema-compat.js";

const f = (name: string, type: CompiledField["type"] = "string", required = false): CompiledField => ({ name, type, required });
const v1 = { version: 1, fields: [f("event_id", "string", true), f("url"), f("duration_ms", "int32")] };

describe("schema compatibility", () => {
  it("accepts the first version of a stream", () => {
    expect(decideSchema(undefined, v1, "Backward")).toEqual({ action: "accept" });
  });

  it("stores nothing when the version and fields are unchanged", () => {
    expect(decideSchema(v1, { ...v1, fields: [...v1.fields] }, "Full")).toEqual({ action: "unchanged" });
  });

  it("accepts a new optional field under every mode", () => {
    const v2 = { version: 2, fields: [...v1.fields, f("referrer")] };
    for (const mode of ["Backward", "Forward", "Full", "None"] as const) expect(decideSchema(v1, v2, mode).action).toBe("accept");
  });

  it("refuses a retyped field under every mode, naming it", () => {
    const v2 = { version: 2, fields: [f("event_id", "string", true), f("url"), f("duration_ms", "int64")] };
    for (const mode of ["Backward", "Forward", "Full", "None"] as const) {
      const d = decideSchema(v1, v2, mode);
      expect(d).toMatchObject({ action: "refuse", reason: "Incompatible" });
      if (d.action === "refuse") expect(d.message).toContain('field "duration_ms" changed type from int32 to int64');
    }
  });

  it("under Backward refuses a new required field and a removed field", () => {
    const v2 = { version: 2, fields: [f("event_id", "string", true), f("url"), f("tenant", "string", true)] };
    expect(compatibilityIssues(v1.fields, v2.fields, "Backward").map((i) => i.field).sort()).toEqual(["duration_ms", "tenant"]);
  });

  it("under Forward allows a new required field and removing an optional one, not a required one", () => {
    const ok = { version: 2, fields: [f("event_id", "string", true), f("url"), f("tenant", "string", true)] };
    expect(compatibilityIssues(v1.fields, ok.fields, "Forward")).toEqual([]);
    const bad = { version: 2, fields: [f("url"), f("duration_ms", "int32")] };
    expect(compatibilityIssues(v1.fields, bad.fields, "Forward").map((i) => i.field)).toEqual(["event_id"]);
  });

  it("under Full refuses making a field required or optional", () => {
    const v2 = { version: 2, fields: [f("event_id", "string", false), f("url", "string", true), f("duration_ms", "int32")] };
    expect(compatibilityIssues(v1.fields, v2.fields, "Full").map((i) => i.field).sort()).toEqual(["event_id", "url"]);
  });

  it("refuses changed fields without a raised version, and an older version", () => {
    const same = { version: 1, fields: [...v1.fields, f("referrer")] };
    expect(decideSchema(v1, same, "Backward")).toMatchObject({ action: "refuse", reason: "VersionNotRaised" });
    expect(decideSchema({ ...v1, version: 3 }, { ...v1, version: 2 }, "Backward")).toMatchObject({ action: "refuse", reason: "VersionNotRaised" });
  });
});
