import { describe, expect, it } from "vitest";
import { authenticate, keyTable } from "./auth.js";
import { IngestError } from "./errors.js";

const table = keyTable({ "shop-a": "key-a", "shop-b": "key-b-is-longer", "shop-empty": "" });

function refusal(header: string | undefined): IngestError {
  try {
    authenticate(table, header);
  } catch (err) {
    return err as IngestError;
  }
  throw new Error("expected a refusal");
}

describe("authenticate", () => {
  it("returns the tenant whose key was presented", () => {
    expect(authenticate(table, "Bearer key-a")).toBe("shop-a");
    expect(authenticate(table, "bearer   key-b-is-longer")).toBe("shop-b");
  });

  it.each([
    ["no header", undefined, /missing API key/],
    ["another scheme", "Basic a2V5LWE=", /missing API key/],
    ["an empty bearer token", "Bearer ", /missing API key/],
    ["a wrong key", "Bearer key-c", /invalid API key/],
    ["a prefix of a key", "Bearer key-b", /invalid API key/],
    ["a key with extra characters", "Bearer key-aa", /invalid API key/],
  ])("refuses %s with 401", (_what, header, message) => {
    const err = refusal(header);
    expect(err).toBeInstanceOf(IngestError);
    expect(err.status).toBe(401);
    expect(err.message).toMatch(message);
    expect(err.retriable).toBe(false);
  });

  it("ignores Secret entries with an empty key, so an empty token never matches", () => {
    expect(table.entries.map((e) => e.tenant)).toEqual(["shop-a", "shop-b"]);
  });
});
