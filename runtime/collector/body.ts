/**
 * Reads a request body into memory under a hard cap, counted twice: on the wire, and
 * after decompression. The decompressed count is checked chunk by chunk as gunzip
 * produces output, so a gzip bomb (a few KB inflating to GB) is stopped at the cap
 * instead of after it has filled memory. The wire count stops endless streams of empty
 * gzip members, which inflate to nothing.
 *
 * The source is never destroyed here: the caller still has to answer on its socket.
 */
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { badRequest, IngestError, tooLarge, unsupportedMedia } from "./errors.js";

export interface BodyLimits {
  maxBytes: number;
  /** The Content-Encoding header: absent, "identity" or "gzip". */
  contentEncoding?: string;
  /** The Content-Length header, when the client sent one: refused early if too large. */
  contentLength?: string;
}

export async function readBody(source: Readable, limits: BodyLimits): Promise<Buffer> {
  const gzip = isGzip(limits.contentEncoding);
  const declared = Number(limits.contentLength);
  if (limits.contentLength !== undefined && Number.isFinite(declared) && declared > limits.maxBytes) {
    throw tooLarge(`request body of ${declared} bytes exceeds the limit of ${limits.maxBytes} bytes`);
  }
  const wire = new ByteCap(limits.maxBytes, "request body");
  const chunks: Buffer[] = [];
  let size = 0;
  // Kept aside: pipeline may report the AbortError of the stages it tore down instead.
  let overflow: IngestError | undefined;
  // pipe() forwards data, not failure: a client that hangs up must still end the read.
  const onError = (err: Error) => wire.destroy(err);
  const onClose = () => {
    if (!source.readableEnded) wire.destroy(new Error("the client closed the connection before the body ended"));
  };
  source.once("error", onError);
  source.once("close", onClose);
  source.pipe(wire);
  try {
    const collect = async (decoded: AsyncIterable<Buffer>) => {
      for await (const chunk of decoded) {
        size += chunk.length;
        if (size > limits.maxBytes) throw (overflow = tooLarge(`request body exceeds the limit of ${limits.maxBytes} bytes after decompression`));
        chunks.push(chunk);
      }
    };
    if (gzip) await pipeline(wire, createGunzip(), collect);
    else await pipeline(wire, collect);
  } catch (err) {
    source.unpipe(wire);
    if (overflow) throw overflow;
    if (err instanceof IngestError) throw err;
    if (isZlibError(err)) throw badRequest(`the body is not valid gzip: ${(err as Error).message}`);
    throw err;
  } finally {
    source.off("error", onError);
    source.off("close", onClose);
  }
  return Buffer.concat(chunks, size);
}

function isGzip(encoding: string | undefined): boolean {
  const e = (encoding ?? "identity").trim().toLowerCase();
  if (e === "gzip" || e === "x-gzip") return true;
  if (e === "identity" || e === "") return false;
  throw unsupportedMedia(`Content-Encoding "${encoding}" is not supported: send gzip or no encoding`);
}

function isZlibError(err: unknown): boolean {
  return typeof err === "object" && err !== null && typeof (err as { errno?: unknown }).errno === "number" && String((err as { code?: unknown }).code).startsWith("Z_");
}

/** Passes bytes through until `max`, then fails with a 413. */
class ByteCap extends Transform {
  private seen = 0;

  constructor(
    private readonly max: number,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) return done(tooLarge(`${this.what} exceeds the limit of ${this.max} bytes`));
    done(null, chunk);
  }
}

/**
 * Reads and throws away what is left of a body the collector has decided to refuse, so
 * the client (still writing) receives the answer instead of a reset connection. Bounded
 * in bytes and time; returns false when the body did not end, and the caller should
 * close the connection.
 */
export function discardBody(source: Readable, maxBytes: number, timeoutMs: number): Promise<boolean> {
  if (source.readableEnded) return Promise.resolve(true);
  if (source.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      source.off("data", onData).off("end", onEnd).off("error", onFail).off("close", onFail);
      if (!ended) source.pause();
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onFail = () => finish(false);
    const timer = setTimeout(onFail, timeoutMs);
    source.on("data", onData).once("end", onEnd).once("error", onFail).once("close", onFail);
    source.resume();
  });
}
