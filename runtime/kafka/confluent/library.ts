/**
 * Confluent's librdkafka binding, loaded once. It is CommonJS with a native addon, so it
 * is required rather than imported, and only by the adapters in this folder.
 */
import { createRequire } from "node:module";
import type * as Confluent from "@confluentinc/kafka-javascript";
import { jsonLogger } from "../../log.js";

const require = createRequire(import.meta.url);
export const KafkaJS = (require("@confluentinc/kafka-javascript") as typeof Confluent).KafkaJS;

/**
 * librdkafka logs each connection failure and retry; only errors and warnings reach our
 * structured log, under the "kafka" component, so a broker restart stays readable.
 */
export function quietLogger(clientId: string) {
  const log = jsonLogger("kafka");
  const logger = {
    info: () => {},
    debug: () => {},
    warn: (message: string) => log.warn(message, { client: clientId }),
    error: (message: string) => log.warn(message, { client: clientId }),
    namespace: () => logger,
    setLogLevel: () => {},
  };
  return logger;
}
