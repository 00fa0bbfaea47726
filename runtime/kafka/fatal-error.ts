/**
 * Which failed Kafka calls waiting cannot fix. A worker retries every other Kafka error
 * (a coordinator moving or loading, a leader being elected, a timeout, a refused or
 * dropped connection, a rebalance in progress) with backoff; these end it at once,
 * because no amount of waiting changes a permission, a size limit or the client itself.
 *
 * Listed as what is fatal, not what is retriable, on purpose: an error nobody foresaw
 * (librdkafka alone has some 200 codes) is then retried up to the worker's deadline and
 * fails it only if it lasts, instead of killing a worker on a passing state.
 */
import { isFatalProducerError } from "./errors.js";

/** Kafka protocol codes (as both clients report them) that name a spec, permission or size problem. */
const FATAL_PROTOCOL_CODES = new Set([
  10, // MESSAGE_TOO_LARGE
  12, // OFFSET_METADATA_TOO_LARGE
  17, // INVALID_TOPIC_EXCEPTION
  18, // RECORD_LIST_TOO_LARGE
  24, // INVALID_GROUP_ID
  28, // INVALID_COMMIT_OFFSET_SIZE
  29, // TOPIC_AUTHORIZATION_FAILED
  30, // GROUP_AUTHORIZATION_FAILED
  31, // CLUSTER_AUTHORIZATION_FAILED
  33, // UNSUPPORTED_SASL_MECHANISM
  35, // UNSUPPORTED_VERSION
  43, // UNSUPPORTED_FOR_MESSAGE_FORMAT
  58, // SASL_AUTHENTICATION_FAILED
  87, // INVALID_RECORD
]);

/** librdkafka's own (negative) codes for a misconfigured or unusable client. */
const FATAL_LOCAL_CODES = new Set([
  -186, // ERR__INVALID_ARG
  -181, // ERR__SSL
  -170, // ERR__NOT_IMPLEMENTED
  -169, // ERR__AUTHENTICATION
  -165, // ERR__UNSUPPORTED_FEATURE
  -154, // ERR__INVALID_TYPE
  -144, // ERR__FENCED
]);

/** kafkajs names its authentication failures by class, without a protocol code. */
const FATAL_NAMES = new Set(["KafkaJSSASLAuthenticationError", "KafkaJSNotImplemented"]);

export function isFatalKafkaError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  // librdkafka's fatal flag, and a producer whose idempotence state is gone (errors.ts).
  if (isFatalProducerError(err)) return true;
  const e = err as { code?: unknown; name?: unknown; originalError?: unknown; cause?: unknown };
  // Only protocol and librdkafka errors carry a numeric code; a socket error's is a string.
  if (typeof e.code === "number" && (FATAL_PROTOCOL_CODES.has(e.code) || FATAL_LOCAL_CODES.has(e.code))) return true;
  if (typeof e.name === "string" && FATAL_NAMES.has(e.name)) return true;
  // kafkajs wraps the error it gave up on (KafkaJSNumberOfRetriesExceeded.originalError).
  for (const inner of [e.originalError, e.cause]) if (inner !== undefined && inner !== err && isFatalKafkaError(inner)) return true;
  return false;
}
