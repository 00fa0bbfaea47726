/**
 * The Kafka a day-two command talks to: --kafka or $KAFKA_BROKERS, reached within a
 * deadline so a wrong address fails in seconds with a hint instead of retrying quietly.
 */
import { kafkaClient } from "../runtime/kafka/client.js";
import type { KafkaAdmin, KafkaClient } from "../runtime/kafka/port.js";
import { CliError, usageError } from "./exit-codes.js";

const CONNECT_DEADLINE_MS = 20_000;

export function brokersFrom(option: string | undefined): string[] {
  const brokers = (option ?? process.env.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) throw usageError("no Kafka to talk to", "pass --kafka <host:port,...> or set KAFKA_BROKERS (`source .testbed/env` for the testbed)");
  return brokers;
}

export interface Connection {
  brokers: string[];
  kafka: KafkaClient;
  admin: KafkaAdmin;
  close(): Promise<void>;
}

/** A connected admin client, or a CliError naming the brokers. */
export async function connectKafka(brokers: string[], clientId: string): Promise<Connection> {
  const kafka = kafkaClient(brokers, clientId);
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      admin.connect().then(() => admin.listTopics()),
      new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`no answer within ${CONNECT_DEADLINE_MS / 1000} s`)), CONNECT_DEADLINE_MS))),
    ]);
  } catch (err) {
    await admin.disconnect().catch(() => {});
    throw unreachable(brokers, err);
  } finally {
    clearTimeout(timer);
  }
  return { brokers, kafka, admin, close: () => admin.disconnect().catch(() => {}) };
}

export function unreachable(brokers: string[], err: unknown): CliError {
  const why = err instanceof Error ? err.message : String(err);
  return new CliError(`cannot reach Kafka at ${brokers.join(",")}: ${why}`, "is the testbed up (`make testbed-status`)? pass --kafka <host:port> or set KAFKA_BROKERS");
}

/** Fails with a hint when the topic is not there (a typo, a stream not applied yet, another namespace). */
export async function requireTopic(admin: KafkaAdmin, topic: string, hint: string): Promise<void> {
  if (!(await admin.listTopics()).includes(topic)) throw new CliError(`topic ${topic} does not exist`, hint);
}
