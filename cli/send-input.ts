/**
 * The events `sluice send` posts: a file holding a JSON array, one JSON object, or NDJSON
 * (one object per line, blank lines skipped). Each event keeps where it came from (line or
 * array position) so a rejection can point at it, and gets an event id now, before the
 * first attempt, so every retry carries the same id and the sinks deduplicate on it.
 */
import { usageError } from "./exit-codes.js";

export interface InputEvent {
  event: unknown;
  /** "line 12" or "item 3" (1-based), for messages. */
  where: string;
}

export function parseEvents(text: string, file: string): InputEvent[] {
  const trimmed = text.trim();
  if (trimmed === "") throw usageError(`${file} holds no events`);
  if (trimmed.startsWith("[")) {
    const parsed = parseJson(trimmed, file);
    return (parsed as unknown[]).map((event, i) => ({ event, where: `item ${i + 1}` }));
  }
  // One object over several lines is a JSON document, not NDJSON.
  if (trimmed.startsWith("{") && !trimmed.includes("\n")) return [{ event: parseJson(trimmed, file), where: "line 1" }];
  const events: InputEvent[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    events.push({ event: parseJson(line, `${file} line ${i + 1}`), where: `line ${i + 1}` });
  });
  return events;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`${where}: not JSON: ${err instanceof Error ? err.message : String(err)}`, "give a JSON array of events, or NDJSON: one JSON object per line");
  }
}

/** Sets `field` to a new id on each object event that has none (others are left for the collector to reject). */
export function withEventIds(events: InputEvent[], field: string, newId: () => string): InputEvent[] {
  return events.map((e) => {
    if (typeof e.event !== "object" || e.event === null || Array.isArray(e.event)) return e;
    const event = e.event as Record<string, unknown>;
    return event[field] === undefined || event[field] === null ? { ...e, event: { ...event, [field]: newId() } } : e;
  });
}
