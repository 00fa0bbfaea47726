/**
 * Poison records as dead-letter messages: the original key, value and headers, plus
 * headers saying what was wrong and where the record came from, so it can be fixed and
 * replayed by hand.
 */
import type { OutMessage as Message } from "../kafka/port.js";
import type { Poison } from "./decode.js";

export function deadLetterMessage(p: Poison, sourceTopic: string, sinkName: string): Message {
  return {
    key: p.record.key,
    value: p.record.value,
    headers: {
      ...p.record.headers,
      "sluice-error": p.reason,
      "sluice-error-field": p.field ?? "",
      "sluice-source-topic": sourceTopic,
      "sluice-source-partition": String(p.record.partition),
      "sluice-source-offset": String(p.record.offset),
      "sluice-sink": sinkName,
    },
  };
}
