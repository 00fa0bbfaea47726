/**
 * A producer of the port on @platformatic/kafka (pure TypeScript, Node ≥ 22), measured by
 * `make bench` as a candidate beside kafkajs and librdkafka. Not shipped: the choice and
 * its figures are in runtime/kafka/README.md. Same guarantees asked as of the others:
 * idempotent, acks=all.
 */
import { ProduceAcks, Producer, stringSerializers } from "@platformatic/kafka";
import type { KafkaProducer, ProducerOptions } from "../port.js";

export function platformaticProducer(brokers: string[], clientId: string, o: ProducerOptions = {}): KafkaProducer {
  const producer = new Producer({
    clientId,
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: o.idempotent ?? true,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
    timeout: o.deliveryTimeoutMs ?? 30_000,
  });
  return {
    // It connects on the first send.
    connect: async () => {},
    send: async ({ topic, messages }) => {
      await producer.send({
        messages: messages.map((m) => ({
          topic,
          key: m.key == null ? undefined : m.key.toString(),
          value: m.value == null ? undefined : m.value.toString(),
          ...(m.headers ? { headers: m.headers } : {}),
          ...(m.partition === undefined ? {} : { partition: m.partition }),
        })) as never,
      });
    },
    disconnect: () => producer.close(),
  };
}
