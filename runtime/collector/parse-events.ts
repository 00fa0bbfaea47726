/**
 * Turns a request body into a list of candidate events: a JSON array, or NDJSON (one
 * event per line, blank lines ignored). Syntax errors fail the whole request with the
 * line and column, because a body that is not JSON says nothing reliable about which
 * events the client meant to send.
 */
import { badRequest, tooLarge } from "./errors.js";
import { jsonErrorOffset, positionOf } from "./json-error.js";

export type BodyFormat = "json" | "ndjson";

const NDJSON_TYPES = new Set(["application/x-ndjson", "application/ndjson"]);

export function bodyFormat(contentType: string | undefined): BodyFormat {
  const mime = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return NDJSON_TYPES.has(mime) ? "ndjson" : "json";
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function parseEvents(body: Buffer, format: BodyFormat, maxEvents: number): unknown[] {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw badRequest("the body is not valid UTF-8");
  }
  return format === "ndjson" ? parseNdjson(text, maxEvents) : parseArray(text, maxEvents);
}

function parseArray(text: string, maxEvents: number): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw badRequest(`the body is not valid JSON${where(text)}: ${(err as Error).message.slice(0, 120)}`);
  }
  if (!Array.isArray(parsed)) {
    throw badRequest("the body must be a JSON array of events (or NDJSON with Content-Type: application/x-ndjson)");
  }
  checkCount(parsed.length, maxEvents);
  return parsed;
}

function parseNdjson(text: string, maxEvents: number): unknown[] {
  const lines = text.split("\n");
  const filled = lines.filter((l) => l.trim() !== "").length;
  // Counted before parsing: a body of too many events is refused without the work.
  checkCount(filled, maxEvents);
  const events: unknown[] = [];
  lines.forEach((line, n) => {
    if (line.trim() === "") return;
    try {
      events.push(JSON.parse(line));
    } catch (err) {
      const offset = jsonErrorOffset(line) ?? 0;
      throw badRequest(`line ${n + 1}, column ${offset + 1} is not valid JSON: ${(err as Error).message.slice(0, 120)}`);
    }
  });
  return events;
}

function checkCount(n: number, maxEvents: number): void {
  if (n > maxEvents) throw tooLarge(`the request holds ${n} events; the limit is ${maxEvents} per request`);
}

function where(text: string): string {
  const offset = jsonErrorOffset(text);
  if (offset === undefined) return "";
  const p = positionOf(text, offset);
  return ` at line ${p.line}, column ${p.column}`;
}
