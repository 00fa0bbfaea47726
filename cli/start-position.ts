/**
 * `--from` of `sluice tail`: where reading starts on each partition. Parsed once into a
 * tagged value, then resolved against the topic's watermarks, so a malformed value is a
 * usage error before Kafka is asked anything.
 */
import { parseDuration } from "../api/duration.js";
import type { KafkaAdmin } from "../runtime/kafka/port.js";
import { usageError } from "./exit-codes.js";

export type StartPosition =
  | { kind: "earliest" }
  | { kind: "latest" }
  /** The same offset on every partition, clamped to what each still has. */
  | { kind: "offset"; offset: bigint }
  /** The first record at or after this time, on each partition. */
  | { kind: "time"; ms: number };

export const FROM_HELP = "earliest, latest, an offset (applied to every partition), an ISO time (2026-11-29T14:00:00Z) or a duration ago (10m, 1h30m)";

export function parseStartPosition(text: string, nowMs: number): StartPosition {
  if (text === "earliest" || text === "beginning") return { kind: "earliest" };
  if (text === "latest" || text === "end") return { kind: "latest" };
  if (/^[0-9]+$/.test(text)) return { kind: "offset", offset: BigInt(text) };
  if (/^([0-9]+(ms|s|m|h|d))+$/.test(text)) return { kind: "time", ms: nowMs - parseDuration(text) };
  // Only full dates: Date.parse also takes "1" or "March", which are more likely typos.
  if (/^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(text) && !Number.isNaN(Date.parse(text))) return { kind: "time", ms: Date.parse(text) };
  throw usageError(`--from ${JSON.stringify(text)} is not a start position`, `use ${FROM_HELP}`);
}

/** The offset each partition starts at. */
export async function resolveStart(admin: KafkaAdmin, topic: string, from: StartPosition): Promise<{ partition: number; offset: string }[]> {
  if (from.kind === "time") return admin.fetchTopicOffsetsByTime(topic, from.ms);
  const marks = await admin.fetchTopicOffsets(topic);
  return marks.map((m) => {
    if (from.kind === "earliest") return { partition: m.partition, offset: m.low };
    if (from.kind === "latest") return { partition: m.partition, offset: m.high };
    const clamped = from.offset < BigInt(m.low) ? BigInt(m.low) : from.offset > BigInt(m.high) ? BigInt(m.high) : from.offset;
    return { partition: m.partition, offset: String(clamped) };
  });
}
