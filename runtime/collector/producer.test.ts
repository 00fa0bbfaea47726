import { describe, expect, it } from "vitest";
import type { KafkaProducer } from "../kafka/port.js";
import { isFatalProducerError } from "../kafka/errors.js";
import { IngestError } from "./errors.js";
import { EventProducer } from "./producer.js";

/** A port producer whose sends answer from a script: "ok", or an error to throw. */
function scriptedProducer(id: number, answers: (string | Error)[], log: string[]): KafkaProducer {
  let i = 0;
  return {
    connect: async () => void log.push(`connect ${id}`),
    disconnect: async () => void log.push(`disconnect ${id}`),
    send: async () => {
      const a = answers[Math.min(i++, answers.length - 1)]!;
      log.push(`send ${id}`);
      if (a instanceof Error) throw a;
    },
  };
}

const fatal = () => Object.assign(new Error("Local: Fatal error: Broker: Out of order sequence number"), { fatal: true, code: -150 });
const settle = () => new Promise((r) => setTimeout(r, 0));

describe("EventProducer", () => {
  it("answers 503 for a fatal send, then replaces the producer once: the next send goes to a new one", async () => {
    const log: string[] = [];
    const replaced: string[] = [];
    let made = 0;
    const scripts: (string | Error)[][] = [[fatal()], ["ok"]];
    const p = await EventProducer.connect({
      brokers: [], clientId: "t", timeoutMs: 1_000,
      create: () => scriptedProducer(++made, scripts[made - 1]!, log),
      onReplaced: (why) => replaced.push(why),
    });
    await expect(p.send("t", [{ value: "a" }], () => {})).rejects.toMatchObject({ status: 503 });
    for (let i = 0; i < 5 && !p.connected; i++) await settle();
    await settle();
    await p.send("t", [{ value: "b" }], () => {});
    expect(replaced).toEqual(["Local: Fatal error: Broker: Out of order sequence number"]);
    expect(log).toEqual(["connect 1", "send 1", "connect 2", "disconnect 1", "send 2"]);
    expect(p.connected).toBe(true);
  });

  it("keeps its producer after an ordinary failure (a timeout is retried by the client, not a broken state)", async () => {
    const log: string[] = [];
    let made = 0;
    const p = await EventProducer.connect({
      brokers: [], clientId: "t", timeoutMs: 1_000,
      create: () => scriptedProducer(++made, [Object.assign(new Error("Local: Message timed out"), { code: -192, retriable: true }), "ok"], log),
    });
    await expect(p.send("t", [{ value: "a" }], () => {})).rejects.toBeInstanceOf(IngestError);
    await settle();
    await p.send("t", [{ value: "b" }], () => {});
    expect(made).toBe(1);
  });

  it("answers 503 at the deadline while the send goes on, and releases its bytes only when the send ends", async () => {
    let finish!: () => void;
    const slow: KafkaProducer = { connect: async () => {}, disconnect: async () => {}, send: () => new Promise<void>((r) => (finish = r)) };
    const p = await EventProducer.connect({ brokers: [], clientId: "t", timeoutMs: 50, create: () => slow });
    let settled = false;
    await expect(p.send("t", [{ value: "a" }], () => (settled = true))).rejects.toMatchObject({ status: 503, message: expect.stringContaining("did not acknowledge within 50 ms") });
    expect(settled).toBe(false);
    finish();
    await settle();
    expect(settled).toBe(true);
  });
});

describe("isFatalProducerError", () => {
  it.each([
    ["librdkafka's fatal flag", { fatal: true }, true],
    ["librdkafka's ERR__FATAL", { code: -150 }, true],
    ["a broker's OUT_OF_ORDER_SEQUENCE_NUMBER", { code: 45 }, true],
    ["kafkajs's OUT_OF_ORDER_SEQUENCE_NUMBER", { type: "OUT_OF_ORDER_SEQUENCE_NUMBER" }, true],
    ["a fatal cause", { cause: { fatal: true } }, true],
    ["a message timeout", { code: -192, retriable: true }, false],
    ["NOT_LEADER_OR_FOLLOWER", { code: 6, retriable: true }, false],
    ["not an object", "boom", false],
  ])("%s -> %s", (_, err, want) => expect(isFatalProducerError(err)).toBe(want));
});

describe("EventProducer while its replacement cannot connect", () => {
  it("answers 503 at the deadline and releases the request's bytes at once", async () => {
    let made = 0;
    const broken: KafkaProducer = { connect: async () => {}, disconnect: async () => {}, send: async () => { throw fatal(); } };
    const unreachable: KafkaProducer = { connect: () => new Promise<void>(() => {}), disconnect: async () => {}, send: async () => {} };
    const p = await EventProducer.connect({ brokers: [], clientId: "t", timeoutMs: 50, create: () => (made++ === 0 ? broken : unreachable) });
    await expect(p.send("t", [{ value: "a" }], () => {})).rejects.toMatchObject({ status: 503 });
    await settle();
    let settled = false;
    await expect(p.send("t", [{ value: "b" }], () => (settled = true))).rejects.toMatchObject({ status: 503, message: expect.stringContaining("within 50 ms") });
    expect(settled).toBe(true);
    expect(p.connected).toBe(false);
  });
});
