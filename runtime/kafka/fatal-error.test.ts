import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
// Both clients' own error factories, so the cases are the objects a worker really catches:
// kafkajs's from the admin, the binding's from commits and dead-letter sends.
// @ts-expect-error: kafkajs ships no types for its internals
import { createErrorFromCode } from "kafkajs/src/protocol/error.js";
// @ts-expect-error: as above
import { KafkaJSNumberOfRetriesExceeded, KafkaJSConnectionError, KafkaJSRequestTimeoutError } from "kafkajs/src/errors.js";
import { isFatalKafkaError } from "./fatal-error.js";

const require = createRequire(import.meta.url);
const LibrdKafkaError = require("@confluentinc/kafka-javascript/lib/error.js") as new (e: { code: number; message: string }) => Error;
const { createKafkaJsErrorFromLibRdKafkaError } = require("@confluentinc/kafka-javascript/lib/kafkajs/_common.js") as { createKafkaJsErrorFromLibRdKafkaError(e: Error): Error };

const kafkajs = (code: number): Error => createErrorFromCode(code) as Error;
const librdkafka = (code: number): Error => createKafkaJsErrorFromLibRdKafkaError(new LibrdKafkaError({ code, message: `code ${code}` }));

describe("isFatalKafkaError: what waiting cannot fix ends a worker, the rest is retried", () => {
  it.each([
    ["a coordinator that moved (kafkajs)", kafkajs(16)],
    ["a coordinator that moved (librdkafka)", librdkafka(16)],
    ["a coordinator still loading", kafkajs(14)],
    ["a coordinator not available", kafkajs(15)],
    // The binding (1.10) builds code 15 with a class it does not have: the commit rejects
    // with this TypeError instead. Still a passing state, so still retried.
    ["the binding's own failure to report a coordinator not available", new TypeError("error.KafkaJSGroupCoordinatorNotAvailableError is not a constructor")],
    ["a leader being elected", kafkajs(5)],
    ["a leader that moved", librdkafka(6)],
    ["a request that timed out", kafkajs(7)],
    ["a rebalance in progress (a commit during a rebalance)", librdkafka(27)],
    ["a stale generation (a commit just after a rebalance)", librdkafka(22)],
    ["a refused connection", new KafkaJSConnectionError("connect ECONNREFUSED 127.0.0.1:9092", { code: "ECONNREFUSED" })],
    ["a request timeout of the client", new KafkaJSRequestTimeoutError("Request Produce(key: 0, version: 7) timed out")],
    ["librdkafka's broker transport failure", librdkafka(-195)],
    ["librdkafka's all brokers down", librdkafka(-187)],
    ["librdkafka waiting for the coordinator", librdkafka(-180)],
    ["librdkafka's local timeout", librdkafka(-185)],
    ["kafkajs giving up on a moved coordinator", new KafkaJSNumberOfRetriesExceeded(kafkajs(16), { retryCount: 5, retryTime: 1000 })],
    ["an error nobody listed", new Error("something new")],
  ])("%s is retried", (_, err) => expect(isFatalKafkaError(err)).toBe(false));

  it.each([
    ["a refused group permission", kafkajs(30)],
    ["a refused topic permission (librdkafka)", librdkafka(29)],
    ["a failed SASL authentication", kafkajs(58)],
    ["librdkafka's authentication failure", librdkafka(-169)],
    ["commit metadata over the broker's limit", librdkafka(12)],
    ["a record too large for the broker", librdkafka(10)],
    ["an unsupported version", kafkajs(35)],
    ["librdkafka's fatal error", librdkafka(-150)],
    ["a producer whose idempotence state is gone", librdkafka(59)],
    ["a refused permission inside kafkajs's retrier", new KafkaJSNumberOfRetriesExceeded(kafkajs(30), { retryCount: 0, retryTime: 100 })],
  ])("%s ends the worker", (_, err) => expect(isFatalKafkaError(err)).toBe(true));
});
