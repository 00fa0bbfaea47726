import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { discardBody, readBody } from "./body.js";
import { IngestError } from "./errors.js";

const from = (...chunks: Buffer[]) => Readable.from(chunks, { objectMode: false });

async function refusal(p: Promise<unknown>): Promise<IngestError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(IngestError);
  return err as IngestError;
}

describe("readBody", () => {
  it("returns a plain body", async () => {
    expect((await readBody(from(Buffer.from("[1,"), Buffer.from("2]")), { maxBytes: 100 })).toString()).toBe("[1,2]");
  });

  it("inflates a gzip body", async () => {
    const body = await readBody(from(gzipSync("[1,2,3]")), { maxBytes: 100, contentEncoding: "gzip" });
    expect(body.toString()).toBe("[1,2,3]");
  });

  it("refuses a body over the cap with 413", async () => {
    const err = await refusal(readBody(from(Buffer.alloc(101, 0x20)), { maxBytes: 100 }));
    expect(err.status).toBe(413);
  });

  it("refuses a declared Content-Length over the cap before reading anything", async () => {
    const source = from(Buffer.from("[]"));
    const err = await refusal(readBody(source, { maxBytes: 100, contentLength: "5000" }));
    expect(err.status).toBe(413);
    expect(source.readableEnded).toBe(false);
  });

  it("stops a gzip bomb at the cap instead of inflating it whole", async () => {
    // 64 MiB of zeros compress to about 64 KB; the cap is 1 MiB.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    const err = await refusal(readBody(from(bomb), { maxBytes: 1024 * 1024, contentEncoding: "gzip" }));
    expect(err.status).toBe(413);
    expect(err.message).toMatch(/after decompression/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it("refuses endless empty gzip members by their size on the wire", async () => {
    const empty = gzipSync(Buffer.alloc(0));
    const err = await refusal(readBody(from(Buffer.concat(Array.from({ length: 200 }, () => empty))), { maxBytes: 1024, contentEncoding: "gzip" }));
    expect(err.status).toBe(413);
  });

  it("answers 400 for a body that claims gzip but is not", async () => {
    const err = await refusal(readBody(from(Buffer.from("[1,2]")), { maxBytes: 100, contentEncoding: "gzip" }));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/not valid gzip/);
  });

  it("answers 415 for an encoding it does not speak", async () => {
    const err = await refusal(readBody(from(Buffer.from("x")), { maxBytes: 100, contentEncoding: "br" }));
    expect(err.status).toBe(415);
  });

  it("fails, rather than hangs, when the client goes away mid-body", async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.from("[1,"));
    const reading = readBody(source, { maxBytes: 100 });
    source.destroy();
    await expect(reading).rejects.toThrow(/closed the connection/);
  });
});

describe("discardBody", () => {
  it("reads the rest of a body and reports that it ended", async () => {
    expect(await discardBody(from(Buffer.alloc(10)), 100, 1000)).toBe(true);
  });

  it("gives up past its byte limit", async () => {
    expect(await discardBody(from(Buffer.alloc(50), Buffer.alloc(60), Buffer.alloc(10)), 100, 1000)).toBe(false);
  });
});
