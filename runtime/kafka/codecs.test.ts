import { describe, expect, it } from "vitest";
import kafkajs from "kafkajs";
import { registerCodecs } from "./codecs.js";

const { CompressionCodecs, CompressionTypes } = kafkajs;

describe("registerCodecs", () => {
  it("makes LZ4 and Snappy round-trip through kafkajs' codec table", async () => {
    registerCodecs();
    const payload = Buffer.from(JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ i, url: "https://shop.example/p" }))));
    for (const type of [CompressionTypes.LZ4, CompressionTypes.Snappy]) {
      const codec = (CompressionCodecs as Record<number, () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }>)[type]!();
      const packed = await codec.compress({ buffer: payload });
      expect(packed.length).toBeLessThan(payload.length);
      expect(await codec.decompress(packed)).toEqual(payload);
    }
  });

  it("registers a zstd decoder", () => {
    registerCodecs();
    expect((CompressionCodecs as Record<number, unknown>)[CompressionTypes.ZSTD]).toBeTypeOf("function");
  });
});
