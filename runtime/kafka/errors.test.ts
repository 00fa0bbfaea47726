import { describe, expect, it } from "vitest";
// kafkajs's own error factory, so the cases are the objects its admin really throws
// (an earlier version matched Kafka's names, which kafkajs does not use, and retried nothing).
// @ts-expect-error: kafkajs ships no types for its internals
import { createErrorFromCode } from "kafkajs/src/protocol/error.js";
// @ts-expect-error: as above
import { KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded, KafkaJSConnectionError } from "kafkajs/src/errors.js";
import { isRetriableAdminError } from "./errors.js";

const kafkajs = (code: number): Error => createErrorFromCode(code) as Error;

describe("isRetriableAdminError", () => {
  it.each([
    ["a leader that moved (reassignment, failover)", kafkajs(6), true],
    ["a leader being elected", kafkajs(5), true],
    ["a coordinator that moved (kafkajs gives up on it at once)", kafkajs(16), true],
    ["a coordinator still loading its offsets", kafkajs(14), true],
    ["a coordinator not available yet", kafkajs(15), true],
    ["a controller that moved", kafkajs(41), true],
    ["a request that timed out", kafkajs(7), true],
    ["a stale leader epoch", kafkajs(74), true],
    ["the same, wrapped by kafkajs' retrier", new KafkaJSNumberOfRetriesExceeded(kafkajs(16), { retryCount: 5, retryTime: 1000 }), true],
    ["a topic that does not exist", kafkajs(3), false],
    ["a refused permission", kafkajs(30), false],
    ["a connection refused (Kafka down: the caller's own retry decides)", new KafkaJSConnectionError("connect ECONNREFUSED", { code: "ECONNREFUSED" }), false],
  ])("%s -> %s", (_, err, want) => expect(isRetriableAdminError(err)).toBe(want));

  it("sees through a protocol error as kafkajs builds it", () => {
    const err = new KafkaJSProtocolError({ type: "NOT_LEADER_FOR_PARTITION", code: 6, retriable: true, message: "not the leader" });
    expect(isRetriableAdminError(err)).toBe(true);
  });
});
