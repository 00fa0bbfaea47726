import { describe, expect, it } from "vitest";
import { isRetriableAdminError } from "./errors.js";

describe("isRetriableAdminError", () => {
  it.each([
    ["a coordinator that moved (kafkajs gives up on it at once)", { type: "NOT_COORDINATOR", retriable: true }, true],
    ["a coordinator still loading its offsets", { type: "COORDINATOR_LOAD_IN_PROGRESS" }, true],
    ["a leader being elected", { type: "LEADER_NOT_AVAILABLE" }, true],
    ["the same, wrapped by kafkajs' retrier", { name: "KafkaJSNumberOfRetriesExceeded", originalError: { type: "NOT_COORDINATOR" } }, true],
    ["a topic that does not exist", { type: "UNKNOWN_TOPIC_OR_PARTITION", retriable: true }, false],
    ["a refused permission", { type: "GROUP_AUTHORIZATION_FAILED" }, false],
    ["a connection refused (Kafka down: the caller's own retry decides)", { name: "KafkaJSConnectionError", message: "connect ECONNREFUSED" }, false],
  ])("%s -> %s", (_, err, want) => expect(isRetriableAdminError(err)).toBe(want));
});
