/**
 * The Kafka clients Sluice uses, behind the port (port.ts): produce and consume on
 * librdkafka (confluent/), admin on kafkajs (kafkajs/admin.ts, for the config calls
 * librdkafka's binding lacks). Everything else asks this function for its clients.
 */
import { confluentConsumer } from "./confluent/consumer.js";
import { confluentNativeProducer } from "./confluent/native-producer.js";
import { commitGroupOffsets } from "./confluent/group-offsets.js";
import { confluentReader } from "./confluent/reader.js";
import { confluentTransactionalProducer } from "./confluent/transactional-producer.js";
import { kafkajsAdmin } from "./kafkajs/admin.js";
import type { KafkaClient } from "./port.js";

export function kafkaClient(brokers: string[], clientId: string): KafkaClient {
  return {
    producer: (o) => confluentNativeProducer(brokers, clientId, o),
    transactionalProducer: (id) => confluentTransactionalProducer(brokers, clientId, id),
    consumer: (o) => confluentConsumer(brokers, clientId, o),
    reader: () => confluentReader(brokers, clientId),
    admin: () => kafkajsAdmin(brokers, clientId),
    commitGroupOffsets: (groupId, offsets) => commitGroupOffsets(brokers, clientId, groupId, offsets),
  };
}
