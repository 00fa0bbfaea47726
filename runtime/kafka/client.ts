/** kafkajs clients with Sluice's defaults: quiet unless something is wrong. */
import { Kafka, logLevel } from "kafkajs";
import { registerCodecs } from "./codecs.js";

export function kafkaClient(brokers: string[], clientId: string): Kafka {
  registerCodecs();
  return new Kafka({ clientId, brokers, logLevel: logLevel.WARN, retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 } });
}
