/**
 * What a failed Kafka call means for the caller, independent of the client library.
 * librdkafka's errors carry `fatal` and a numeric `code`; kafkajs's carry a `type` name.
 */

/** librdkafka's ERR__FATAL: the client instance is unusable and must be replaced. */
const FATAL = -150;
/** Broker answers that mean this producer's idempotence state (id, epoch, sequence) is broken. */
const BROKEN_IDEMPOTENCE_CODES = new Set([45 /* OUT_OF_ORDER_SEQUENCE_NUMBER */, 47 /* INVALID_PRODUCER_EPOCH */, 59 /* UNKNOWN_PRODUCER_ID */]);
const BROKEN_IDEMPOTENCE_TYPES = new Set(["OUT_OF_ORDER_SEQUENCE_NUMBER", "INVALID_PRODUCER_EPOCH", "UNKNOWN_PRODUCER_ID"]);

/** True when no later send on this producer can succeed: replace it (new producer id). */
export function isFatalProducerError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { fatal?: unknown; code?: unknown; type?: unknown; cause?: unknown };
  if (e.fatal === true || e.code === FATAL) return true;
  if (typeof e.code === "number" && BROKEN_IDEMPOTENCE_CODES.has(e.code)) return true;
  if (typeof e.type === "string" && BROKEN_IDEMPOTENCE_TYPES.has(e.type)) return true;
  return e.cause !== undefined && e.cause !== err && isFatalProducerError(e.cause);
}

/**
 * Answers that name a passing state of the cluster (a coordinator moving or loading, a
 * leader being elected or moved, a request timing out): asking again shortly succeeds. A
 * freshly started or just-failed-over cluster gives them for seconds; a worker must not die
 * of them. Matched by Kafka protocol error code, because client libraries name the same
 * code differently (kafkajs: NOT_LEADER_FOR_PARTITION, NOT_COORDINATOR_FOR_GROUP; Kafka:
 * NOT_LEADER_OR_FOLLOWER, NOT_COORDINATOR). kafkajs's admin refreshes its metadata on every
 * call, so a retry after a leader moved goes to the new leader.
 * UNKNOWN_TOPIC_OR_PARTITION (3) is left out on purpose: for an admin call it usually means
 * the topic is really missing, and callers that expect a new topic wait for it themselves.
 */
const RETRIABLE_ADMIN_CODES = new Set([
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  7, // REQUEST_TIMED_OUT
  14, // COORDINATOR_LOAD_IN_PROGRESS
  15, // COORDINATOR_NOT_AVAILABLE
  16, // NOT_COORDINATOR
  27, // REBALANCE_IN_PROGRESS
  41, // NOT_CONTROLLER
  56, // KAFKA_STORAGE_ERROR
  74, // FENCED_LEADER_EPOCH
  75, // UNKNOWN_LEADER_EPOCH
]);

export function isRetriableAdminError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; name?: unknown; originalError?: unknown; cause?: unknown };
  // Only protocol errors carry a Kafka error code; a socket error's `code` is a string.
  if (typeof e.code === "number" && RETRIABLE_ADMIN_CODES.has(e.code)) return true;
  for (const inner of [e.originalError, e.cause]) if (inner !== undefined && inner !== err && isRetriableAdminError(inner)) return true;
  return false;
}
