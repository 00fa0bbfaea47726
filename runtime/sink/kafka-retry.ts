/**
 * How the sink retries its Kafka steps: reading where partitions start, committing, and
 * dead-lettering. A coordinator that moved or is loading, a leader being elected, a
 * timeout or a dropped connection passes by itself, so it is retried with backoff; the
 * worker fails only on an error waiting cannot fix (kafka/fatal-error.ts), or on one that
 * outlasted the deadline (Kafka gone for good: better a restarting pod than a silent one).
 */
import { isFatalKafkaError } from "../kafka/fatal-error.js";
import type { RetryOptions } from "./retry.js";

export const KAFKA_STEPS = ["read offsets", "read watermarks", "commit intent", "dead-letter", "commit"] as const;
export type KafkaStep = (typeof KAFKA_STEPS)[number];

/**
 * Default for SinkOptions.kafkaRetryDeadlineMs. A broker failover or a coordinator move
 * takes seconds, a rolling restart of a broker a minute or two.
 */
export const defaultKafkaRetryDeadlineMs = 5 * 60_000;

export function kafkaRetry(step: KafkaStep, deadlineMs: number): RetryOptions {
  return { step, deadlineMs, isRetriable: (e) => !isFatalKafkaError(e), maxNonRetriable: 1 };
}

export function isKafkaStep(step: string | undefined): step is KafkaStep {
  return (KAFKA_STEPS as readonly (string | undefined)[]).includes(step);
}
