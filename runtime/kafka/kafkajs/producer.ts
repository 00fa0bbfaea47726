/**
 * The producer half of the port on kafkajs 2.2.4, which Sluice used before librdkafka.
 * Kept only as a reference: the moved-partition test runs it to show the defect that made
 * us leave it (a retried send resolves although records whose partition moved to a
 * broker that already answered were never written, tulios/kafkajs#1303), and benchmarks
 * use it as their baseline. Nothing in the product constructs it.
 */
import kafkajs from "kafkajs";
import type { KafkaProducer, ProducerOptions } from "../port.js";

const { Kafka, logLevel } = kafkajs;

export function kafkajsProducer(brokers: string[], clientId: string, o: ProducerOptions = {}): KafkaProducer {
  const producer = new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 } }).producer({
    idempotent: o.idempotent ?? true,
    retry: { retries: 5 },
  });
  return {
    connect: () => producer.connect(),
    send: async ({ topic, messages }) => {
      await producer.send({ topic, acks: -1, timeout: o.deliveryTimeoutMs ?? 30_000, messages: messages.map((m) => ({ key: m.key ?? null, value: m.value, headers: m.headers, partition: m.partition })) });
    },
    disconnect: () => producer.disconnect(),
  };
}
