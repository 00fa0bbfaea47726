/**
 * kafkajs decodes only gzip by itself. A topic's compression.type makes the broker
 * recompress (lz4 is Sluice's default) and other producers (kcat, Java) may send snappy or
 * zstd batches; a consumer that cannot decode one would stall its partition. So every
 * worker registers all codecs before it consumes.
 *
 * lz4-napi: prebuilt native LZ4 frame codec (Kafka uses the frame format).
 * kafkajs-snappy: the widely used pure-JS Snappy codec with Kafka's xerial framing.
 * fzstd: pure-JS zstd decompression; we never need to produce zstd ourselves, since the
 * collector sends uncompressed batches and the broker applies the topic's codec.
 */
import kafkajs from "kafkajs";
import { compressFrame, decompressFrame } from "lz4-napi";
import snappyCodec from "kafkajs-snappy";
import { decompress as zstdDecompress } from "fzstd";

const { CompressionCodecs, CompressionTypes } = kafkajs;

interface Encoder {
  buffer: Buffer;
}

let registered = false;

export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: Encoder) => compressFrame(encoder.buffer),
    decompress: async (buffer: Buffer) => decompressFrame(buffer),
  });
  CompressionCodecs[CompressionTypes.Snappy] = snappyCodec;
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: async () => {
      throw new Error("zstd compression is not supported by Sluice's producers; set the topic's compression to apply it on the broker");
    },
    decompress: async (buffer: Buffer) => Buffer.from(zstdDecompress(buffer)),
  });
}
