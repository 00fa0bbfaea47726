/**
 * Confluent's librdkafka binding, loaded once. It is CommonJS with a native addon, so it
 * is required rather than imported, and only by the adapters in this folder.
 */
import { createRequire } from "node:module";
import type * as Confluent from "@confluentinc/kafka-javascript";
import { jsonLogger } from "../../log.js";

const require = createRequire(import.meta.url);
const binding = require("@confluentinc/kafka-javascript") as typeof Confluent;
export const KafkaJS = binding.KafkaJS;
/** The classic (node-rdkafka) API: the reader (manual assignment) and group-offsets.ts (commits without joining). */
export const Rdkafka = { KafkaConsumer: binding.KafkaConsumer };

/**
 * librdkafka logs each connection failure and each retry it makes on its own: those reach
 * our structured log at info, under the "kafka" component; its errors (a client that
 * cannot reach any broker, say) at warn. A broker restart stays readable.
 */
export function quietLogger(clientId: string) {
  const log = jsonLogger("kafka");
  const logger = {
    info: () => {},
    debug: () => {},
    warn: (message: string) => log.info(message, { client: clientId }),
    error: (message: string) => log.warn(message, { client: clientId }),
    namespace: () => logger,
    setLogLevel: () => {},
  };
  return logger;
}
