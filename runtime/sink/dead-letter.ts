/**
 * Poison records as dead-letter messages: the original key, value and headers, plus
 * headers saying what was wrong and where the record came from, so it can be fixed and
 * replayed by hand.
 */
import type { OutMessage as Message } from "../kafka/port.js";
import type { Poison } from "./decode.js";

/** The headers a dead letter carries beside the original ones (`sluice tail --dlq` shows them). */
export const DEAD_LETTER_HEADERS = {
  error: "sluice-error",
  field: "sluice-error-field",
  sourceTopic: "sluice-source-topic",
  sourcePartition: "sluice-source-partition",
  sourceOffset: "sluice-source-offset",
  sink: "sluice-sink",
} as const;

export function deadLetterMessage(p: Poison, sourceTopic: string, sinkName: string): Message {
  const h = DEAD_LETTER_HEADERS;
  return {
    key: p.record.key,
    value: p.record.value,
    headers: {
      ...p.record.headers,
      [h.error]: p.reason,
      [h.field]: p.field ?? "",
      [h.sourceTopic]: sourceTopic,
      [h.sourcePartition]: String(p.record.partition),
      [h.sourceOffset]: String(p.record.offset),
      [h.sink]: sinkName,
    },
  };
}
