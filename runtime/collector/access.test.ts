import { describe, expect, it } from "vitest";
import type { CompiledStream } from "../pipeline/compiled.js";
import { admit } from "./access.js";
import { keyTable } from "./auth.js";
import { IngestError } from "./errors.js";

const stream = (name: string, enabled = true) => ({ name, ingest: { enabled } }) as CompiledStream;

/** A collector serving `views` (keys of shops a and b), `orders` (key of shop c), an open stream and a closed one. */
function config(opts: { keyed?: boolean } = {}) {
  const keyed = opts.keyed ?? true;
  const streams = new Map([stream("views"), stream("orders"), stream("open"), stream("closed", false)].map((s) => [s.name, s]));
  const keyTables = new Map(keyed ? [["views", keyTable({ "shop-a": "key-a", "shop-b": "key-b" })], ["orders", keyTable({ "shop-c": "key-c" })]] : []);
  return { streams, keyTables, anyKey: { entries: [...keyTables.values()].flatMap((t) => t.entries) } };
}

function status(name: string, authorization?: string, cfg = config()): number {
  try {
    admit(cfg, name, authorization);
    return 200;
  } catch (err) {
    expect(err).toBeInstanceOf(IngestError);
    return (err as IngestError).status;
  }
}

describe("admitting a request", () => {
  it("admits a stream's own key as its tenant", () => {
    expect(admit(config(), "views", "Bearer key-b")).toMatchObject({ stream: { name: "views" }, tenant: "shop-b" });
  });

  it("admits anyone to an open stream, without a tenant", () => {
    expect(admit(config(), "open", undefined)).toEqual({ stream: stream("open") });
  });

  it.each([
    ["no key", undefined],
    ["a key of no stream", "Bearer key-z"],
  ])("with %s, answers 401 for every name, so stream names cannot be enumerated", (_what, authorization) => {
    for (const name of ["views", "closed", "no-such-stream"]) expect([name, status(name, authorization)]).toEqual([name, 401]);
  });

  it("refuses another stream's key with 401: keys are per stream", () => {
    expect(status("views", "Bearer key-c")).toBe(401);
  });

  it("tells the holder of any key served that a name is unknown (404) or closed (403)", () => {
    expect(status("no-such-stream", "Bearer key-c")).toBe(404);
    expect(status("closed", "Bearer key-a")).toBe(403);
  });

  it("answers 404 for an unknown name when no stream has keys: there is nothing to authenticate against", () => {
    expect(status("no-such-stream", undefined, config({ keyed: false }))).toBe(404);
  });
});
