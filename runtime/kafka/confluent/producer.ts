/**
 * The producer half of the port on librdkafka. Why librdkafka: its idempotent producer
 * re-sends every unacknowledged record to whichever broker leads its partition now, and
 * bumps the producer epoch itself after a timed-out request, where kafkajs 2.2.4 dropped
 * records whose partition moved to a broker that had already answered
 * (tulios/kafkajs#1303) and wedged on OUT_OF_ORDER_SEQUENCE_NUMBER (tulios/kafkajs#598).
 */
import type { KafkaProducer, OutMessage, ProducerOptions } from "../port.js";
import { KafkaJS, quietLogger } from "./library.js";

/** librdkafka's settings for every Sluice producer (the KafkaJS-shaped one here and native-producer.ts). */
export function producerConfig(brokers: string[], clientId: string, o: ProducerOptions = {}): Record<string, unknown> {
  return {
    "bootstrap.servers": brokers.join(","),
    "client.id": clientId,
    "enable.idempotence": o.idempotent ?? true,
    acks: -1,
    // A record fails only at this deadline; until then librdkafka retries it on whichever
    // broker leads its partition (retries are unbounded within the deadline).
    "message.timeout.ms": o.deliveryTimeoutMs ?? 30_000,
    retries: 2_147_483_647,
    "linger.ms": 5,
    // Kafka's Java clients place keyed records with murmur2; so did kafkajs, so keys stay
    // on the partitions they were on before the move.
    partitioner: "murmur2_random",
    "allow.auto.create.topics": false,
    // What the binding's KafkaJS-shaped layer adds (kafkaJSToRdKafkaConfig), written out so
    // that native-producer.ts runs with the settings our fault tests were passed with.
    "socket.timeout.ms": 30_000,
    "socket.connection.setup.timeout.ms": 11_000,
    "retry.backoff.ms": 300,
    "retry.backoff.max.ms": 30_000,
    "transaction.timeout.ms": 60_000,
  };
}

export function confluentProducer(brokers: string[], clientId: string, o: ProducerOptions = {}): KafkaProducer {
  const producer = new KafkaJS.Kafka({}).producer({
    ...producerConfig(brokers, clientId, o),
    kafkaJS: { logger: quietLogger(clientId) as never },
  } as never);
  return {
    connect: () => producer.connect(),
    send: async ({ topic, messages }) => {
      await producer.send({ topic, messages: messages.map(toRecord) });
    },
    disconnect: () => producer.disconnect(),
  };
}

export function toRecord(m: OutMessage) {
  return { key: m.key ?? null, value: m.value, headers: m.headers, ...(m.partition === undefined ? {} : { partition: m.partition }) } as never;
}
