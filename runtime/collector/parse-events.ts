/**
 * Turns a request body into a list of candidate events: a JSON array, or NDJSON (one
 * event per line, blank lines ignored). Syntax errors fail the whole request with the
 * line and column, because a body that is not JSON says nothing reliable about which
 * events the client meant to send.
 *
 * Each event comes with the byte range of its source text in the body, so an event that
 * needs nothing filled can be produced as the bytes the client sent (see raw-value.ts).
 */
import { arrayElementRanges, isJsonWhitespace, type SourceRange } from "./array-elements.js";
import { badRequest, tooLarge } from "./errors.js";
import { jsonErrorOffset, positionOf } from "./json-error.js";

export type BodyFormat = "json" | "ndjson";

const NDJSON_TYPES = new Set(["application/x-ndjson", "application/ndjson"]);

export function bodyFormat(contentType: string | undefined): BodyFormat {
  const mime = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return NDJSON_TYPES.has(mime) ? "ndjson" : "json";
}

export interface ParsedEvents {
  events: unknown[];
  body: Buffer;
  /**
   * ranges[i] is where events[i]'s text lies in body, without surrounding whitespace;
   * JSON.parse of those bytes gives events[i] again. Empty when they could not be found.
   */
  ranges: SourceRange[];
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function parseEvents(body: Buffer, format: BodyFormat, maxEvents: number): ParsedEvents {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw badRequest("the body is not valid UTF-8");
  }
  // The decoder drops a leading byte order mark; the byte offsets start after it.
  const from = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  if (format === "ndjson") return parseNdjson(body, from, text, maxEvents);
  const events = parseArray(text, maxEvents);
  const ranges = arrayElementRanges(body, from);
  // Cannot differ for valid JSON; if it ever did, the events go the JSON.stringify way.
  return { events, body, ranges: ranges.length === events.length ? ranges : [] };
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

function parseNdjson(body: Buffer, from: number, text: string, maxEvents: number): ParsedEvents {
  const lines = text.split("\n");
  const filled = lines.filter((l) => l.trim() !== "").length;
  // Counted before parsing: a body of too many events is refused without the work.
  checkCount(filled, maxEvents);
  const events: unknown[] = [];
  const ranges: SourceRange[] = [];
  // Line n of the text is line n of the bytes: "\n" in the text comes only from byte 0x0a.
  let lineStart = from;
  lines.forEach((line, n) => {
    const newline = body.indexOf(0x0a, lineStart);
    const lineEnd = newline < 0 ? body.length : newline;
    const range = { start: lineStart, end: lineEnd };
    lineStart = lineEnd + 1;
    if (line.trim() === "") return;
    try {
      events.push(JSON.parse(line));
    } catch (err) {
      const offset = jsonErrorOffset(line) ?? 0;
      throw badRequest(`line ${n + 1}, column ${offset + 1} is not valid JSON: ${(err as Error).message.slice(0, 120)}`);
    }
    // JSON.parse accepted the line, so what surrounds the value is JSON whitespace (a CR).
    while (isJsonWhitespace(body[range.start]!)) range.start++;
    while (isJsonWhitespace(body[range.end - 1]!)) range.end--;
    ranges.push(range);
  });
  return { events, body, ranges };
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
