/**
 * A TCP proxy in front of one Kafka broker that can answer chosen requests itself with the
 * error a broker would send: here, OffsetFetch answered NOT_COORDINATOR, what a broker says
 * when the group's coordinator has just moved away from it. librdkafka 2.15 then never
 * fetches the assignment (confluentinc/librdkafka#5586), which the port's consumer repairs;
 * timing a real coordinator move into the few milliseconds between SyncGroup and
 * OffsetFetch is not possible on demand, so the broker's answer is played here instead.
 *
 * Everything else passes through unchanged, except that Metadata and FindCoordinator
 * answers name the proxy's port instead of the broker's, so the client keeps talking
 * through it (same host, same length: the bytes are patched in place). Responses leave in
 * request order, an injected one included, as a broker's would.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

const METADATA = 3;
const OFFSET_FETCH = 9;
const FIND_COORDINATOR = 10;
const NOT_COORDINATOR = 16;

export interface KafkaFaultProxy {
  /** The address to give the client instead of the broker's. */
  bootstrap: string;
  /** Answers the next `count` OffsetFetch requests with NOT_COORDINATOR instead of forwarding them. */
  failOffsetFetch(count: number): void;
  /** OffsetFetch requests answered by the proxy so far. */
  injected(): number;
  /** Requests seen, by API key. */
  requests(): Map<number, number>;
  close(): Promise<void>;
}

export async function startKafkaFaultProxy(broker: string): Promise<KafkaFaultProxy> {
  const [host, portText] = broker.split(":") as [string, string];
  const brokerPort = Number(portText);
  let armed = 0;
  let injected = 0;
  const seen = new Map<number, number>();
  const sockets = new Set<Socket>();
  let proxyPort = 0;

  const server: Server = createServer((client) => {
    const upstream = connect(brokerPort, host);
    sockets.add(client).add(upstream);
    // What the client waits for, in request order: a request forwarded (its response comes
    // from the broker) or an answer of ours, held until the ones before it went out.
    const expected: ({ kind: "upstream"; apiKey: number; version: number; correlationId: number } | { kind: "ours"; frame: Buffer })[] = [];
    const flushOurs = () => {
      while (expected[0]?.kind === "ours") client.write((expected.shift() as { frame: Buffer }).frame);
    };
    frames(client, (frame) => {
      const apiKey = frame.readInt16BE(4);
      const version = frame.readInt16BE(6);
      const correlationId = frame.readInt32BE(8);
      seen.set(apiKey, (seen.get(apiKey) ?? 0) + 1);
      if (apiKey === OFFSET_FETCH && armed > 0) {
        armed--;
        injected++;
        expected.push({ kind: "ours", frame: offsetFetchNotCoordinator(frame, version, correlationId) });
        flushOurs();
        return;
      }
      expected.push({ kind: "upstream", apiKey, version, correlationId });
      upstream.write(frame);
    });
    frames(upstream, (frame) => {
      const head = expected.shift();
      if (head?.kind !== "upstream" || head.correlationId !== frame.readInt32BE(4)) {
        client.destroy(new Error("kafka fault proxy: a response out of request order"));
        return;
      }
      if (head.apiKey === METADATA) patchMetadata(frame, head.version, brokerPort, proxyPort);
      if (head.apiKey === FIND_COORDINATOR) patchFindCoordinator(frame, head.version, brokerPort, proxyPort);
      client.write(frame);
      flushOurs();
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", close).on("error", close);
    upstream.on("close", close).on("error", close);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  proxyPort = (server.address() as { port: number }).port;
  return {
    bootstrap: `127.0.0.1:${proxyPort}`,
    failOffsetFetch: (count) => {
      armed = count;
    },
    injected: () => injected,
    requests: () => new Map(seen),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** Calls `onFrame` with each whole size-prefixed Kafka frame (size included) read from the socket. */
function frames(socket: Socket, onFrame: (frame: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) break;
      onFrame(Buffer.from(pending.subarray(0, 4 + size)));
      pending = pending.subarray(4 + size);
    }
  });
}

/** A reader over a frame's bytes, for the few fields the proxy needs. */
class Cursor {
  constructor(readonly buf: Buffer, public at: number) {}
  int16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  uvarint(): number {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.buf[this.at++]!;
      v |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
    }
  }
  /** A (nullable) string: compact (uvarint length + 1) in flexible versions, else int16 length. */
  string(compact: boolean): string | null {
    const len = compact ? this.uvarint() - 1 : this.int16();
    if (len < 0) return null;
    const s = this.buf.toString("utf8", this.at, this.at + len);
    this.at += len;
    return s;
  }
  arrayLength(compact: boolean): number {
    return compact ? this.uvarint() - 1 : this.int32();
  }
  taggedFields(): void {
    for (let n = this.uvarint(); n > 0; n--) {
      this.uvarint();
      this.at += this.uvarint();
    }
  }
  /** Writes `to` over the int32 port just read if it was `from`. */
  patchPort(from: number, to: number): void {
    if (this.int32() === from) this.buf.writeInt32BE(to, this.at - 4);
  }
}

/** After the size and the correlation id; flexible response headers (v1) carry tagged fields. */
function responseBody(frame: Buffer, flexible: boolean): Cursor {
  const c = new Cursor(frame, 8);
  if (flexible) c.taggedFields();
  return c;
}

function patchMetadata(frame: Buffer, version: number, from: number, to: number): void {
  const flexible = version >= 9;
  const c = responseBody(frame, flexible);
  if (version >= 3) c.int32(); // throttle_time_ms
  for (let n = c.arrayLength(flexible); n > 0; n--) {
    c.int32(); // node_id
    c.string(flexible); // host
    c.patchPort(from, to);
    if (version >= 1) c.string(flexible); // rack
    if (flexible) c.taggedFields();
  }
}

function patchFindCoordinator(frame: Buffer, version: number, from: number, to: number): void {
  const flexible = version >= 3;
  const c = responseBody(frame, flexible);
  if (version >= 1) c.int32(); // throttle_time_ms
  if (version >= 4) {
    for (let n = c.arrayLength(true); n > 0; n--) {
      c.string(true); // key
      c.int32(); // node_id
      c.string(true); // host
      c.patchPort(from, to);
      c.int16(); // error_code
      c.string(true); // error_message
      c.taggedFields();
    }
    return;
  }
  c.int16(); // error_code
  if (version >= 1) c.string(flexible); // error_message
  c.int32(); // node_id
  c.string(flexible); // host
  c.patchPort(from, to);
}

/** The response a broker that is not the group's coordinator gives an OffsetFetch request. */
function offsetFetchNotCoordinator(request: Buffer, version: number, correlationId: number): Buffer {
  const flexible = version >= 6;
  const parts: Buffer[] = [];
  const int16 = (v: number) => parts.push(Buffer.from([(v >> 8) & 0xff, v & 0xff]));
  const int32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    parts.push(b);
  };
  const byte = (v: number) => parts.push(Buffer.from([v]));
  int32(correlationId);
  if (flexible) byte(0); // response header tagged fields
  if (version >= 8) {
    // One entry per group asked for (the client asks for its own), the error on the group.
    const req = new Cursor(request, 8 + 4);
    req.string(false); // client_id: a plain nullable string even in flexible headers
    req.taggedFields();
    const groups: string[] = [];
    for (let n = req.arrayLength(true); n > 0 && groups.length === 0; n--) groups.push(req.string(true) ?? "");
    int32(0); // throttle_time_ms
    byte(groups.length + 1);
    for (const g of groups) {
      const name = Buffer.from(g, "utf8");
      byte(name.length + 1); // group ids here are < 127 bytes: a one-byte uvarint
      parts.push(name);
      byte(1); // no topics
      int16(NOT_COORDINATOR);
      byte(0);
    }
    byte(0);
  } else {
    if (version >= 3) int32(0); // throttle_time_ms
    if (flexible) byte(1);
    else int32(0); // no topics
    if (version >= 2) int16(NOT_COORDINATOR);
    if (flexible) byte(0);
  }
  const body = Buffer.concat(parts);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}
